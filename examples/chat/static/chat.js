// The chat page. Plain ECMAScript 3 and DOM level 1 on purpose: the page
// runs wherever the client does, IE6 included.
(function () {
  var TOKEN_KEY = "realtime-chat-identity";
  var socket = null;
  var me = null;
  var identity = null;
  var wantedName = null;
  // Lines not yet taken by the server: {cid, text, item}. Sent (again) once
  // joined; each stays marked as pending until its broadcast comes back.
  var pending = [];
  var nextCid = 1;

  var $ = page.$;
  var text = page.text;
  var element = page.element;
  var pad = page.pad;

  function show(id, visible) {
    $(id).className = visible ? "" : "hidden";
  }

  function label(user) {
    return user.name + " #" + user.tag;
  }

  function setStatus() {
    page.status(socket, $("status"), wantedName ? "offline, reconnecting\u2026" : "not connected");
  }

  function problem(message) {
    if (message) {
      text($("problem"), message);
    }
    $("problem").className = message ? "problem" : "problem hidden";
  }

  // What a failed connection attempt means, in words a person can act on.
  function explain(error) {
    var status = error && error.context;
    var what = error && error.message;
    if (status === 403 || status === 400) {
      return "The server refused this page (HTTP " + status + "): it does not accept connections " +
        "from " + window.location.protocol + "//" + window.location.host + ". Its " +
        "cors_allowed_origins setting decides which pages may connect.";
    }
    if (what === "websocket error") {
      return "Could not open a WebSocket to the server. It may not accept this page's origin " +
        "(its cors_allowed_origins setting), or a proxy on the way blocks WebSocket. Retrying\u2026";
    }
    if (what === "jsonp poll error" || what === "xhr poll error") {
      return "Cannot reach the server (" + what + "). Retrying\u2026";
    }
    return "Cannot connect: " + (what || "unknown error") + ". Retrying\u2026";
  }

  function renderRoster(roster) {
    var list = $("users");
    text($("count"), String(roster.count));
    while (list.firstChild) {
      list.removeChild(list.firstChild);
    }
    for (var i = 0; i < roster.users.length; i++) {
      var user = roster.users[i];
      var mine = me && user.id === me.id;
      var item = element("li", mine ? "user me" : "user", user.name);
      item.appendChild(element("span", "tag", "#" + user.tag));
      if (mine) {
        item.appendChild(element("span", "you", " (you)"));
      }
      list.appendChild(item);
    }
  }

  function append(item) {
    var list = $("messages");
    list.appendChild(item);
    list.scrollTop = list.scrollHeight;
  }

  function notice(message) {
    append(element("li", "notice", message));
  }

  function messageItem(className, time, from, body) {
    var item = element("li", className);
    item.appendChild(element("span", "time", pad(time.getHours()) + ":" + pad(time.getMinutes())));
    var author = element("span", "from", from.name);
    author.appendChild(element("span", "tag", "#" + from.tag));
    item.appendChild(author);
    item.appendChild(element("span", "text", body));
    return item;
  }

  function addMessage(message) {
    var mine = me && message.from.id === me.id;
    for (var i = 0; mine && i < pending.length; i++) {
      if (pending[i].cid === message.cid) {
        // Ours, back from the server: the pending line becomes the real one.
        var done = pending.splice(i, 1)[0];
        done.item.parentNode.removeChild(done.item);
        break;
      }
    }
    append(messageItem(mine ? "message mine" : "message", new Date(message.time), message.from, message.text));
  }

  function sendPending() {
    for (var i = 0; i < pending.length; i++) {
      socket.emit("say", pending[i].text, pending[i].cid);
    }
  }

  function join(name) {
    wantedName = name;
    $("join-button").disabled = true;
    socket.emit("join", name, function (answer) {
      $("join-button").disabled = false;
      if (answer.error) {
        text($("join-error"), answer.error);
        return;
      }
      var first = !me;
      me = answer.you;
      text($("join-error"), "");
      show("join", false);
      show("room", true);
      renderRoster(answer);
      if (first) {
        notice("You joined as " + label(me) + ".");
      }
      sendPending();
      $("text").focus();
    });
  }

  function connect() {
    socket = realtime.connect("/chat", page.options(function (send) {
      // localStorage where the browser has it (IE8+); otherwise a new
      // identity per visit, which still tells this visitor apart.
      send({ token: (identity && identity.token) || page.stored(TOKEN_KEY) });
    }));
    socket.on("identity", function (data) {
      identity = data;
      page.store(TOKEN_KEY, data.token);
      text($("my-tag"), "#" + data.tag);
    });
    socket.on("connect", function () {
      problem(null);
      setStatus();
      page.onUpgrade(socket, setStatus);
      // Back after a network cut: the server sees a new socket, so join again.
      if (wantedName && me) {
        join(wantedName);
      }
    });
    socket.on("connect_error", function (error) {
      problem(explain(error));
      setStatus();
    });
    socket.on("disconnect", setStatus);
    socket.on("joined", function (data) {
      renderRoster(data);
      notice(label(data.user) + " joined.");
    });
    socket.on("left", function (data) {
      renderRoster(data);
      notice(label(data.user) + " left.");
    });
    socket.on("message", addMessage);
  }

  $("join").onsubmit = function () {
    var name = $("name").value.replace(/^\s+|\s+$/g, "");
    if (!name) {
      text($("join-error"), "Please choose a name.");
      return false;
    }
    if (!socket.connected && !socket.active()) {
      socket.connect();
    }
    join(name);
    return false;
  };

  $("composer").onsubmit = function () {
    var input = $("text");
    var value = input.value.replace(/^\s+|\s+$/g, "");
    if (value) {
      var line = { cid: "c" + nextCid++, text: value };
      line.item = messageItem("message mine pending", new Date(), me, value);
      line.item.appendChild(element("span", "state", socket.connected ? "sending\u2026" : "waiting for the connection\u2026"));
      append(line.item);
      pending.push(line);
      if (socket.connected) {
        socket.emit("say", line.text, line.cid);
      }
      input.value = "";
    }
    input.focus();
    return false;
  };

  $("leave").onclick = function () {
    socket.disconnect();
    me = null;
    wantedName = null;
    pending = [];
    var messages = $("messages");
    while (messages.firstChild) {
      messages.removeChild(messages.firstChild);
    }
    show("room", false);
    show("join", true);
    setStatus();
  };

  connect();
  setStatus();
})();
