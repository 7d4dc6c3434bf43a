// The WebIM page. Plain ECMAScript 3 and DOM level 1 on purpose: it runs
// wherever the client does (IE6 included, over JSONP). Files are sent as
// binary chunks where the browser can read them (FileReader and
// ArrayBuffer); elsewhere the page says so and still shows what others send.
(function () {
  var TOKEN_KEY = "realtime-webim-session";
  var EMOJI = ["\ud83d\ude00", "\ud83d\ude02", "\ud83d\ude0d", "\ud83d\ude09", "\ud83d\ude0e",
    "\ud83d\ude22", "\ud83d\ude2e", "\ud83d\ude21", "\ud83d\udc4d", "\ud83d\udc4e", "\ud83d\udc4f",
    "\ud83d\ude4f", "\ud83c\udf89", "\u2764\ufe0f", "\ud83d\udd25", "\u2615"];
  var socket = null;
  var token = page.stored(TOKEN_KEY);
  var state = null;       // what the server last said: me, friends, groups, online...
  var current = null;     // the open conversation's key: "u:7" or "g:3"
  var shown = [];         // the open conversation's messages
  var unread = {};        // key -> count
  var last = {};          // key -> last message
  var early = {};         // person id -> the newest presence notice that came before the state
  var canSendFiles = !!(window.FileReader && window.ArrayBuffer && window.Blob);

  var $ = page.$;
  var clear = page.clear;
  var text = page.text;
  var element = page.element;
  var pad = page.pad;

  function show(id, visible) {
    var node = $(id);
    var kept = [];
    var names = node.className.split(" ");
    for (var i = 0; i < names.length; i++) {
      if (names[i] && names[i] !== "hidden") {
        kept.push(names[i]);
      }
    }
    if (!visible) {
      kept.push("hidden");
    }
    node.className = kept.join(" ");
  }

  function trim(value) {
    return value.replace(/^\s+|\s+$/g, "");
  }

  function pad(n) {
    return n < 10 ? "0" + n : String(n);
  }

  function clock(ms) {
    var when = new Date(ms);
    var now = new Date();
    var hm = pad(when.getHours()) + ":" + pad(when.getMinutes());
    if (when.toDateString() === now.toDateString()) {
      return hm;
    }
    return when.getDate() + "/" + (when.getMonth() + 1) + " " + hm;
  }

  function storeToken(value) {
    token = value;
    page.store(TOKEN_KEY, value);
  }

  function setStatus() {
    page.status(socket, $("status"), "offline, reconnecting\u2026");
  }

  // -- people and conversations ------------------------------------------------

  function everyone() {
    var all = [];
    if (!state) {
      return all;
    }
    all = all.concat(state.friends, state.online, state.requests["in"], state.requests.out);
    for (var i = 0; i < state.groups.length; i++) {
      all = all.concat(state.groups[i].members);
    }
    return all;
  }

  function personById(id) {
    var all = everyone();
    for (var i = 0; i < all.length; i++) {
      if (all[i].id === id) {
        return all[i];
      }
    }
    return null;
  }

  function groupById(id) {
    for (var i = 0; state && i < state.groups.length; i++) {
      if (state.groups[i].id === id) {
        return state.groups[i];
      }
    }
    return null;
  }

  function keyOf(message) {
    if (message.group != null) {
      return "g:" + message.group;
    }
    return "u:" + (message.from.id === state.me.id ? message.to : message.from.id);
  }

  function titleOf(key) {
    var id = parseInt(key.substring(2), 10);
    if (key.charAt(0) === "g") {
      var group = groupById(id);
      return group ? group.name : "A group you left";
    }
    var person = personById(id);
    if (person) {
      return person.name;
    }
    var message = last[key];
    return message && message.from.id === id ? message.from.name : "Someone";
  }

  function presenceText(person) {
    if (person.online) {
      return "online";
    }
    return person.last_seen ? "last seen " + clock(person.last_seen) : "offline";
  }

  function personItem(person, withPresence) {
    var item = element("li", "person");
    item.appendChild(element("span", person.online ? "dot on" : "dot"));
    item.appendChild(document.createTextNode(person.name));
    if (withPresence) {
      item.appendChild(element("span", "seen", presenceText(person)));
    }
    item.onclick = function () {
      open("u:" + person.id);
    };
    return item;
  }

  function none(list, message) {
    list.appendChild(element("li", "none", message));
  }

  function preview(message) {
    if (!message) {
      return "";
    }
    var who = message.from.id === state.me.id ? "You: " : "";
    if (message.kind === "image") {
      return who + "[image] " + message.text;
    }
    if (message.kind === "file") {
      return who + "[file] " + message.text;
    }
    return who + message.text;
  }

  function renderConversations() {
    var list = clear($("conversations"));
    var keys = [];
    for (var key in last) {
      if (last.hasOwnProperty(key)) {
        keys.push(key);
      }
    }
    keys.sort(function (a, b) {
      return last[b].id - last[a].id;
    });
    for (var i = 0; i < keys.length; i++) {
      list.appendChild(conversationItem(keys[i]));
    }
    if (!keys.length) {
      none(list, "No messages yet.");
    }
  }

  function conversationItem(key) {
    var item = element("li", key === current ? "conversation current" : "conversation");
    if (unread[key]) {
      item.appendChild(element("span", "unread", String(unread[key])));
    }
    item.appendChild(element("b", null, titleOf(key)));
    item.appendChild(element("span", "preview", preview(last[key])));
    item.setAttribute("data-key", key);
    item.onclick = function () {
      open(key);
    };
    return item;
  }

  function renderFriends() {
    var list = clear($("friends"));
    for (var i = 0; i < state.friends.length; i++) {
      list.appendChild(personItem(state.friends[i], true));
    }
    if (!state.friends.length) {
      none(list, "No friends yet: add one by name below.");
    }
    var requests = clear($("requests"));
    var incoming = state.requests["in"];
    for (i = 0; i < incoming.length; i++) {
      requests.appendChild(requestItem(incoming[i]));
    }
    for (i = 0; i < state.requests.out.length; i++) {
      requests.appendChild(element("li", "none", "Asked " + state.requests.out[i].name + "\u2026"));
    }
  }

  function requestItem(person) {
    var item = element("li", "request", person.name + " wants to be friends");
    var accept = element("button", "small", "Accept");
    accept.onclick = function () {
      socket.emit("accept", person.id, friendAnswer);
      return false;
    };
    var decline = element("button", "small secondary", "Decline");
    decline.onclick = function () {
      socket.emit("unfriend", person.id, friendAnswer);
      return false;
    };
    item.appendChild(accept);
    item.appendChild(decline);
    return item;
  }

  function friendAnswer(answer) {
    text($("friend-error"), answer.error || "");
  }

  function renderGroups() {
    var list = clear($("groups"));
    for (var i = 0; i < state.groups.length; i++) {
      list.appendChild(groupItem(state.groups[i]));
    }
    if (!state.groups.length) {
      none(list, "No groups yet.");
    }
  }

  function groupItem(group) {
    var key = "g:" + group.id;
    var item = element("li", key === current ? "group current" : "group", "# " + group.name);
    item.appendChild(element("span", "seen", group.members.length + " members"));
    item.onclick = function () {
      open(key);
    };
    return item;
  }

  function renderOnline() {
    var list = clear($("online"));
    text($("online-count"), String(state.online.length));
    for (var i = 0; i < state.online.length; i++) {
      if (state.online[i].id !== state.me.id) {
        list.appendChild(personItem(state.online[i], false));
      }
    }
    if (state.online.length < 2) {
      none(list, "Nobody else right now.");
    }
  }

  function renderTalkHead() {
    if (!current) {
      return;
    }
    text($("talk-title"), titleOf(current));
    var id = parseInt(current.substring(2), 10);
    var isGroup = current.charAt(0) === "g";
    var person = isGroup ? null : personById(id);
    text($("talk-presence"), person ? presenceText(person) : "");
    show("group-tools", isGroup && groupById(id) !== null);
    var group = isGroup ? groupById(id) : null;
    if (group) {
      var names = [];
      for (var i = 0; i < group.members.length; i++) {
        names.push(group.members[i].name);
      }
      text($("members"), names.join(", "));
      var select = clear($("invite-who"));
      for (i = 0; i < state.friends.length; i++) {
        var option = element("option", null, state.friends[i].name);
        option.value = String(state.friends[i].id);
        select.appendChild(option);
      }
    }
  }

  function render() {
    text($("my-name"), state.me.name);
    renderConversations();
    renderFriends();
    renderGroups();
    renderOnline();
    renderTalkHead();
  }

  // -- messages --------------------------------------------------------------------

  function fileUrl(file) {
    return "/webim/files/" + file.id + "?token=" + encodeURIComponent(token);
  }

  function messageItem(message) {
    var mine = message.from.id === state.me.id;
    var item = element("li", mine ? "message mine" : "message");
    var bubble = element("div", "bubble");
    if (!mine && current.charAt(0) === "g") {
      bubble.appendChild(element("span", "from", message.from.name));
    }
    if (message.kind === "image") {
      var link = element("a", "image");
      link.href = fileUrl(message.file);
      link.target = "_blank";
      var img = document.createElement("img");
      img.src = fileUrl(message.file);
      img.alt = message.text;
      link.appendChild(img);
      bubble.appendChild(link);
    } else if (message.kind === "file") {
      var download = element("a", "file", message.text + " (" + Math.ceil(message.file.size / 1024) + " KiB)");
      download.href = fileUrl(message.file);
      bubble.appendChild(download);
    } else {
      bubble.appendChild(element("span", "text", message.text));
    }
    bubble.appendChild(element("span", "time", clock(message.time)));
    item.appendChild(bubble);
    return item;
  }

  function appendMessage(message) {
    var list = $("messages");
    list.appendChild(messageItem(message));
    list.scrollTop = list.scrollHeight;
  }

  function markRead() {
    if (current && last[current]) {
      unread[current] = 0;
      socket.emit("read", current, last[current].id);
    }
  }

  function open(key) {
    current = key;
    shown = [];
    text($("talk-error"), "");
    clear($("messages"));
    show("composer", true);
    render();
    socket.emit("history", key, function (answer) {
      if (answer.error || key !== current) {
        text($("talk-error"), answer.error || "");
        return;
      }
      shown = answer.messages;
      var list = clear($("messages"));
      for (var i = 0; i < shown.length; i++) {
        appendMessage(shown[i]);
      }
      if (!shown.length) {
        list.appendChild(element("li", "notice", "No messages yet. Say hello!"));
      }
      markRead();
      renderConversations();
    });
    $("text").focus();
  }

  function received(message) {
    var key = keyOf(message);
    if (last[key] && last[key].id >= message.id) {
      return;
    }
    last[key] = message;
    if (key === current) {
      var list = $("messages");
      if (!shown.length) {
        clear(list);
      }
      shown.push(message);
      appendMessage(message);
      markRead();
    } else if (message.from.id !== state.me.id) {
      unread[key] = (unread[key] || 0) + 1;
    }
    renderConversations();
  }

  function applyState(data) {
    var first = !state;
    state = data;
    for (var i = 0; i < data.conversations.length; i++) {
      var entry = data.conversations[i];
      unread[entry.key] = entry.unread;
      if (entry.last) {
        last[entry.key] = entry.last;
      }
    }
    if (first) {
      // Notices that overtook the first state: it may have been read
      // before them, and each is the newest about its person (a later
      // change brings its own notice), so each goes over it.
      var waiting = early;
      early = {};
      for (var id in waiting) {
        if (waiting.hasOwnProperty(id)) {
          updatePresence(waiting[id]);
        }
      }
    }
    render();
  }

  function signedIn(session) {
    storeToken(session.token);
    unread = {};
    last = {};
    applyState(session);
    show("auth", false);
    show("main", true);
    show("whoami", true);
    if (current) {
      open(current);
    }
  }

  function signedOut() {
    state = null;
    early = {};
    current = null;
    show("main", false);
    show("whoami", false);
    show("auth", true);
  }

  function updatePerson(lists, person) {
    for (var i = 0; i < lists.length; i++) {
      for (var j = 0; j < lists[i].length; j++) {
        if (lists[i][j].id === person.id) {
          lists[i][j] = person;
        }
      }
    }
  }

  function presence(person) {
    if (!state) {
      early[person.id] = person; // one per person: bounded by the people there are
      return;
    }
    updatePresence(person);
    render();
  }

  function updatePresence(person) {
    var lists = [state.friends, state.requests["in"], state.requests.out];
    for (var i = 0; i < state.groups.length; i++) {
      lists.push(state.groups[i].members);
    }
    updatePerson(lists, person);
    var online = [];
    for (i = 0; i < state.online.length; i++) {
      if (state.online[i].id !== person.id) {
        online.push(state.online[i]);
      }
    }
    if (person.online) {
      online.push(person);
      online.sort(function (a, b) {
        return a.name.toLowerCase() < b.name.toLowerCase() ? -1 : 1;
      });
    }
    state.online = online;
  }

  // -- files -----------------------------------------------------------------------

  function progress(done, total, name) {
    show("progress", done < total);
    $("progress-bar").style.width = Math.floor((100 * done) / total) + "%";
    text($("progress-text"), name + ": " + Math.floor((100 * done) / total) + "%");
  }

  function sendFile(file) {
    var key = current;
    text($("talk-error"), "");
    socket.emit("upload", key, file.name, file.type, file.size, function (answer) {
      if (answer.error) {
        text($("talk-error"), answer.error);
        return;
      }
      sendChunk(file, answer.file, answer.chunk, 0);
    });
  }

  function sendChunk(file, id, size, offset) {
    progress(offset, file.size, file.name);
    var reader = new FileReader();
    reader.onload = function () {
      socket.emit("chunk", id, offset, reader.result, function (answer) {
        if (answer.error) {
          show("progress", false);
          text($("talk-error"), answer.error);
        } else if (answer.received < file.size) {
          sendChunk(file, id, size, answer.received);
        } else {
          progress(file.size, file.size, file.name);
        }
      });
    };
    reader.readAsArrayBuffer(file.slice(offset, offset + size));
  }

  // -- the connection --------------------------------------------------------------

  function connect() {
    socket = realtime.connect("/webim", page.options(function (send) {
      send({ token: token });
    }));
    socket.on("connect", function () {
      show("problem", false);
      setStatus();
      page.onUpgrade(socket, setStatus);
    });
    socket.on("connect_error", function (error) {
      text($("problem"), "Cannot connect: " + ((error && error.message) || "unknown error") + ". Retrying\u2026");
      show("problem", true);
      setStatus();
    });
    socket.on("disconnect", setStatus);
    socket.on("session", function (session) {
      if (session) {
        signedIn(session);
      } else {
        storeToken(null);
        signedOut();
      }
    });
    socket.on("state", applyState);
    socket.on("presence", presence);
    socket.on("message", received);
    socket.on("read", function (mark) {
      unread[mark.key] = 0;
      renderConversations();
    });
  }

  function enter(how) {
    var name = trim($("name").value);
    var password = $("password").value;
    text($("auth-error"), "");
    socket.emit(how, name, password, function (answer) {
      if (answer.error) {
        text($("auth-error"), answer.error);
      } else {
        $("password").value = "";
        signedIn(answer);
      }
    });
    return false;
  }

  $("auth").onsubmit = function () {
    return enter("login");
  };
  $("signup").onclick = function () {
    return enter("signup");
  };

  $("logout").onclick = function () {
    storeToken(null);
    socket.disconnect();
    signedOut();
    socket.connect();
  };

  $("composer").onsubmit = function () {
    var input = $("text");
    var value = trim(input.value);
    if (value && current) {
      socket.emit("send", current, value, function (answer) {
        text($("talk-error"), answer.error || "");
      });
      input.value = "";
    }
    show("emoji", false);
    input.focus();
    return false;
  };

  $("add-friend").onsubmit = function () {
    var name = trim($("friend-name").value);
    if (name) {
      socket.emit("befriend", name, function (answer) {
        friendAnswer(answer);
        if (!answer.error) {
          $("friend-name").value = "";
        }
      });
    }
    return false;
  };

  $("new-group").onsubmit = function () {
    var name = trim($("group-name").value);
    if (name) {
      socket.emit("create_group", name, function (answer) {
        if (!answer.error) {
          $("group-name").value = "";
          open("g:" + answer.group);
        }
      });
    }
    return false;
  };

  function groupAnswer(answer) {
    text($("talk-error"), answer.error || "");
  }

  $("invite").onclick = function () {
    var who = $("invite-who").value;
    if (current && who) {
      socket.emit("invite", parseInt(current.substring(2), 10), parseInt(who, 10), groupAnswer);
    }
  };

  $("leave-group").onclick = function () {
    if (current) {
      socket.emit("leave_group", parseInt(current.substring(2), 10), groupAnswer);
    }
  };

  var palette = $("emoji");
  for (var e = 0; e < EMOJI.length; e++) {
    var choice = element("button", null, EMOJI[e]);
    choice.type = "button";
    choice.onclick = function () {
      var input = $("text");
      input.value += this.firstChild.nodeValue;
      input.focus();
    };
    palette.appendChild(choice);
  }
  $("emoji-button").onclick = function () {
    show("emoji", palette.className.indexOf("hidden") >= 0);
  };

  if (canSendFiles) {
    $("file").onchange = function () {
      var input = $("file");
      if (input.files && input.files.length && current) {
        sendFile(input.files[0]);
      }
      input.value = "";
    };
  } else {
    show("attach", false);
    show("no-files", true);
  }

  show("composer", false);
  connect();
  setStatus();
})();
