// What the desk's three pages share. Plain ECMAScript 3 and DOM level 1 on
// purpose: the pages run wherever the client does, IE6 included (over JSONP).
var desk = (function () {
  function $(id) {
    return document.getElementById(id);
  }

  function clear(node) {
    while (node.firstChild) {
      node.removeChild(node.firstChild);
    }
  }

  function text(node, value) {
    clear(node);
    node.appendChild(document.createTextNode(value));
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
    var node = $(id);
    node.className = visible ? node.className.replace(/(^| )hidden\b/g, "") : node.className + " hidden";
  }

  function strip(value) {
    return value.replace(/^\s+|\s+$/g, "");
  }

  function clock(ms) {
    var time = new Date(ms);
    var minutes = time.getMinutes();
    return time.getHours() + ":" + (minutes < 10 ? "0" + minutes : String(minutes));
  }

  // localStorage where the browser has it (IE8+); otherwise nothing is kept
  // and a reload starts afresh.
  function load(key) {
    try {
      return window.localStorage ? window.localStorage.getItem(key) : null;
    } catch (e) {
      return null;
    }
  }

  function save(key, value) {
    try {
      if (window.localStorage) {
        if (value == null) {
          window.localStorage.removeItem(key);
        } else {
          window.localStorage.setItem(key, value);
        }
      }
    } catch (e) {
      // private mode and the like: kept for this page only
    }
  }

  // The company is in the address: /desk/<company>/...
  function company() {
    var match = /^\/desk\/([a-z0-9-]+)/.exec(window.location.pathname);
    return match ? match[1] : "";
  }

  // ?transports=polling,websocket forces transports (for trying them out).
  function options(auth) {
    var opts = { auth: auth };
    var match = /[?&]transports=([^&]*)/.exec(window.location.search);
    if (match) {
      opts.transports = decodeURIComponent(match[1]).split(",");
    }
    return opts;
  }

  function status(socket) {
    var node = $("status");
    if (socket && socket.connected) {
      text(node, "online via " + socket.io.engine.transport.name);
      node.className = "status online";
    } else {
      text(node, "offline");
      node.className = "status offline";
    }
  }

  // Keeps the status right as the socket comes, goes and upgrades.
  function watch(socket) {
    socket.on("connect", function () {
      problem(null);
      status(socket);
      var engine = socket.io.engine;
      if (!engine.watched) {
        engine.watched = true;
        engine.on("upgrade", function () {
          status(socket);
        });
      }
    });
    socket.on("disconnect", function () {
      status(socket);
    });
  }

  function problem(message) {
    if (message) {
      text($("problem"), message);
    }
    show("problem", !!message);
  }

  // A message as both sides show it: who, when, what.
  function messageItem(line, mine) {
    if (line.sender === "system") {
      return element("li", "notice", line.text);
    }
    var item = element("li", mine ? "message mine" : "message");
    var head = element("div", "meta", line.author + " \u00b7 " + clock(line.time));
    item.appendChild(head);
    item.appendChild(element("div", "bubble", line.text));
    return item;
  }

  function append(list, item) {
    list.appendChild(item);
    list.scrollTop = list.scrollHeight;
  }

  // Typing signals: on at the first key, off after two quiet seconds.
  function typingSender(send) {
    var timer = null;
    return function () {
      if (timer) {
        clearTimeout(timer);
      } else {
        send(true);
      }
      timer = setTimeout(function () {
        timer = null;
        send(false);
      }, 2000);
    };
  }

  return {
    $: $, clear: clear, text: text, element: element, show: show, strip: strip, load: load,
    save: save, company: company, options: options, watch: watch, problem: problem,
    messageItem: messageItem, append: append, typingSender: typingSender
  };
})();
