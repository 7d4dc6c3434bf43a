// The chat page. Plain ECMAScript 3 and DOM level 1 on purpose: the page
// runs wherever the client does, IE6 included.
(function () {
  var socket = null;
  var me = null;
  var wantedName = null;
  // Lines typed while the connection is down; sent once joined again (the
  // server only takes messages from people in the room).
  var outbox = [];

  function $(id) {
    return document.getElementById(id);
  }

  function text(element, value) {
    while (element.firstChild) {
      element.removeChild(element.firstChild);
    }
    element.appendChild(document.createTextNode(value));
  }

  function element(tag, className, content) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (content != null) {
      node.appendChild(document.createTextNode(content));
    }
    return node;
  }

  function show(id, visible) {
    $(id).className = visible ? "" : "hidden";
  }

  function pad(n) {
    return n < 10 ? "0" + n : String(n);
  }

  // ?transports=polling,websocket forces transports (for trying them out).
  function options() {
    var match = /[?&]transports=([^&]*)/.exec(window.location.search);
    return match ? { transports: decodeURIComponent(match[1]).split(",") } : {};
  }

  function setStatus() {
    var status = $("status");
    if (socket && socket.connected) {
      text(status, "online via " + socket.io.engine.transport.name);
      status.className = "status online";
    } else {
      text(status, wantedName ? "offline, reconnecting\u2026" : "not connected");
      status.className = "status offline";
    }
  }

  function renderRoster(roster) {
    var list = $("users");
    text($("count"), String(roster.count));
    while (list.firstChild) {
      list.removeChild(list.firstChild);
    }
    for (var i = 0; i < roster.users.length; i++) {
      var user = roster.users[i];
      var item = element("li", me && user.id === me.id ? "user me" : "user", user.name);
      if (me && user.id === me.id) {
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

  function addMessage(message) {
    var time = new Date(message.time);
    var mine = me && message.from.id === me.id;
    var item = element("li", mine ? "message mine" : "message");
    item.appendChild(element("span", "time", pad(time.getHours()) + ":" + pad(time.getMinutes())));
    item.appendChild(element("span", "from", message.from.name));
    item.appendChild(element("span", "text", message.text));
    append(item);
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
        notice("You joined as " + me.name + ".");
      }
      while (outbox.length) {
        socket.emit("say", outbox.shift());
      }
      $("text").focus();
    });
  }

  function connect() {
    socket = realtime.connect(options());
    socket.on("connect", function () {
      setStatus();
      var engine = socket.io.engine;
      if (!engine.watched) {
        engine.watched = true;
        engine.on("upgrade", setStatus);
      }
      // Back after a network cut: the server sees a new socket, so join again.
      if (wantedName && me) {
        join(wantedName);
      }
    });
    socket.on("disconnect", setStatus);
    socket.on("joined", function (data) {
      renderRoster(data);
      notice(data.user.name + " joined.");
    });
    socket.on("left", function (data) {
      renderRoster(data);
      notice(data.user.name + " left.");
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
      if (socket.connected) {
        socket.emit("say", value);
      } else {
        outbox.push(value);
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
    outbox = [];
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
