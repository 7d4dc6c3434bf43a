// The agent's page: sign in, then many customers at once. The list shows
// each conversation's unread count; one is open in the thread at a time.
(function () {
  var $ = desk.$;
  var company = desk.company();
  var tokenKey = "realtime-desk-agent-" + company;
  var socket = null;
  var credentials = null; // {name, password} until the server gives a token
  var me = null;
  var summaries = {}; // conversation id -> its summary
  var order = []; // conversation ids, the most recent first
  var current = null; // the open conversation's id
  var online = [];
  var nextCid = 1;

  function auth(send) {
    var token = desk.load(tokenKey);
    if (credentials) {
      send({ as: "agent", name: credentials.name, password: credentials.password });
    } else {
      send({ as: "agent", token: token });
    }
  }

  function remove(list, value) {
    for (var i = 0; i < list.length; i++) {
      if (list[i] === value) {
        list.splice(i, 1);
        return;
      }
    }
  }

  function remember(summary, toTop) {
    if (!summaries[summary.id] || toTop) {
      remove(order, summary.id);
      order.unshift(summary.id);
    }
    summaries[summary.id] = summary;
  }

  function renderList() {
    var list = $("conversations");
    desk.clear(list);
    for (var i = 0; i < order.length; i++) {
      var summary = summaries[order[i]];
      var item = desk.element("li", summary.id === current ? "conversation current" : "conversation");
      item.id = "conversation-" + summary.id;
      var name = desk.element("span", "customer", summary.customer);
      item.appendChild(name);
      if (summary.unread > 0) {
        item.appendChild(desk.element("span", "unread", String(summary.unread)));
      }
      item.appendChild(desk.element("span", "last", summary.last || "\u00a0"));
      item.onclick = opener(summary.id);
      list.appendChild(item);
    }
    desk.text($("open-count"), String(order.length));
    desk.show("no-conversations", order.length === 0);
  }

  function opener(id) {
    return function () {
      open(id);
    };
  }

  function renderAgents() {
    var list = $("agents");
    var select = $("transfer-to");
    desk.clear(list);
    desk.clear(select);
    for (var i = 0; i < online.length; i++) {
      var mine = me && online[i].id === me.id;
      list.appendChild(desk.element("li", mine ? "agent me" : "agent", online[i].name + (mine ? " (you)" : "")));
      if (!mine) {
        var option = desk.element("option", null, online[i].name);
        option.value = String(online[i].id);
        select.appendChild(option);
      }
    }
    $("transfer").disabled = select.options.length === 0;
  }

  function setThread(summary) {
    desk.text($("thread-title"), summary ? summary.customer : "Pick a conversation");
    desk.show("thread-actions", !!summary);
    $("text").disabled = !summary;
    $("send").disabled = !summary;
    desk.text($("typing"), "\u00a0");
    desk.text($("error"), "");
  }

  function open(id) {
    socket.emit("open", id, function (answer) {
      if (answer.error) {
        desk.text($("error"), answer.error);
        return;
      }
      current = id;
      remember(answer.conversation, false);
      var list = $("messages");
      desk.clear(list);
      for (var i = 0; i < answer.history.length; i++) {
        list.appendChild(desk.messageItem(answer.history[i], answer.history[i].sender === "agent"));
      }
      list.scrollTop = list.scrollHeight;
      setThread(answer.conversation);
      renderList();
      $("text").focus();
    });
  }

  function forget(id) {
    delete summaries[id];
    remove(order, id);
    if (current === id) {
      current = null;
      desk.clear($("messages"));
      setThread(null);
    }
    renderList();
  }

  function signedIn(answer) {
    me = answer.me;
    desk.text($("whoami"), answer.company + " \u00b7 " + me.name + (me.admin ? " (admin)" : ""));
    desk.show("login", false);
    desk.show("desk", true);
    desk.show("sign-out", true);
    desk.show("team", me.admin);
    summaries = {};
    order = [];
    for (var i = answer.conversations.length - 1; i >= 0; i--) {
      remember(answer.conversations[i], true);
    }
    online = answer.agents;
    renderAgents();
    renderList();
    if (current !== null && summaries[current]) {
      open(current);
    }
  }

  function connect() {
    socket = realtime.connect("/desk/" + company, desk.options(auth));
    desk.watch(socket);
    socket.on("signed_in", function (data) {
      credentials = null;
      desk.save(tokenKey, data.token);
    });
    socket.on("connect", function () {
      socket.emit("ready", function (answer) {
        if (answer.error) {
          desk.text($("login-error"), answer.error);
          return;
        }
        signedIn(answer);
      });
    });
    socket.on("connect_error", function (error) {
      if (error && error.data && error.data.sign_in) {
        // Refused by the desk, not the network: ask again, stop retrying.
        credentials = null;
        desk.save(tokenKey, null);
        $("login-button").disabled = false;
        desk.text($("login-error"), error.message);
        desk.show("login", true);
        desk.show("desk", false);
        return;
      }
      desk.problem("Cannot connect: " + (error && error.message) + ". Retrying\u2026");
    });
    socket.on("agents", function (list) {
      online = list;
      renderAgents();
    });
    socket.on("assigned", function (summary) {
      remember(summary, true);
      renderList();
    });
    socket.on("summary", function (summary) {
      if (summaries[summary.id]) {
        remember(summary, false);
        renderList();
      }
    });
    socket.on("removed", function (data) {
      forget(data.id);
    });
    socket.on("message", function (line) {
      if (line.conversation !== current) {
        return; // the summary that follows counts it as unread
      }
      desk.append($("messages"), desk.messageItem(line, line.sender === "agent"));
      if (line.sender === "customer") {
        desk.text($("typing"), "\u00a0");
        socket.emit("read", current);
      }
    });
    socket.on("typing", function (signal) {
      if (signal.conversation === current && summaries[current]) {
        desk.text($("typing"), signal.on ? summaries[current].customer + " is typing\u2026" : "\u00a0");
      }
    });
  }

  $("login").onsubmit = function () {
    var name = desk.strip($("login-name").value);
    var password = $("login-password").value;
    if (!name || !password) {
      desk.text($("login-error"), "Please give your name and password.");
      return false;
    }
    credentials = { name: name, password: password };
    desk.text($("login-error"), "");
    $("login-button").disabled = true;
    if (socket) {
      socket.connect();
    } else {
      connect();
    }
    return false;
  };

  $("sign-out").onclick = function () {
    desk.save(tokenKey, null);
    socket.disconnect();
    me = null;
    current = null;
    desk.show("desk", false);
    desk.show("sign-out", false);
    desk.show("login", true);
    $("login-button").disabled = false;
    desk.text($("status"), "not signed in");
  };

  var typing = desk.typingSender(function (on) {
    if (current !== null) {
      socket.emit("typing", on, current);
    }
  });
  $("text").onkeydown = typing;

  $("composer").onsubmit = function () {
    var value = desk.strip($("text").value);
    if (value && current !== null) {
      $("send").disabled = true;
      socket.emit("reply", current, value, "a" + nextCid++, function (answer) {
        $("send").disabled = false;
        desk.text($("error"), answer.error || "");
        if (!answer.error) {
          $("text").value = "";
        }
      });
    }
    $("text").focus();
    return false;
  };

  $("transfer").onclick = function () {
    var select = $("transfer-to");
    if (current === null || !select.options.length) {
      return;
    }
    var to = parseInt(select.options[select.selectedIndex].value, 10);
    socket.emit("transfer", current, to, function (answer) {
      desk.text($("error"), answer.error || "");
    });
  };

  $("close").onclick = function () {
    if (current !== null) {
      socket.emit("close", current, function (answer) {
        desk.text($("error"), answer.error || "");
      });
    }
  };

  $("team").onsubmit = function () {
    var form = { name: desk.strip($("agent-name").value), password: $("agent-password").value };
    socket.emit("add_agent", form, function (answer) {
      desk.text($("team-message"), answer.error || answer.agent.name + " can sign in now.");
      if (!answer.error) {
        $("agent-name").value = "";
        $("agent-password").value = "";
      }
    });
    return false;
  };

  if (desk.load(tokenKey)) {
    connect();
  }
})();
