// What every demo page needs, shared by them: DOM helpers, a value kept in
// localStorage, the connection's options and its status line. Plain
// ECMAScript 3 and DOM level 1, like the pages.
var page = (function () {
  function $(id) {
    return document.getElementById(id);
  }

  function clear(node) {
    while (node.firstChild) {
      node.removeChild(node.firstChild);
    }
    return node;
  }

  function text(node, value) {
    clear(node).appendChild(document.createTextNode(value));
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

  function pad(n) {
    return n < 10 ? "0" + n : String(n);
  }

  // localStorage where the browser has it (IE8+); elsewhere, or in private
  // mode, nothing is kept and the page holds the value itself.
  function stored(key) {
    try {
      return window.localStorage ? window.localStorage.getItem(key) : null;
    } catch (e) {
      return null;
    }
  }

  function store(key, value) {
    try {
      if (!window.localStorage) {
        return;
      }
      if (value == null) {
        window.localStorage.removeItem(key);
      } else {
        window.localStorage.setItem(key, value);
      }
    } catch (e) {
      // private mode and the like
    }
  }

  // The client's options: ``auth`` as given, and ?transports=polling,websocket
  // in the page's address forcing transports (for trying them out).
  function options(auth) {
    var opts = { auth: auth };
    var match = /[?&]transports=([^&]*)/.exec(window.location.search);
    if (match) {
      opts.transports = decodeURIComponent(match[1]).split(",");
    }
    return opts;
  }

  // The status line: "online via <transport>" (updated on an upgrade), else
  // ``offline`` as the page words it.
  function status(socket, node, offline) {
    if (socket && socket.connected) {
      text(node, "online via " + socket.io.engine.transport.name);
      node.className = "status online";
    } else {
      text(node, offline);
      node.className = "status offline";
    }
  }

  function onUpgrade(socket, listener) {
    var engine = socket.io.engine;
    if (!engine.watched) {
      engine.watched = true;
      engine.on("upgrade", listener);
    }
  }

  return {
    $: $, clear: clear, text: text, element: element, pad: pad, stored: stored, store: store,
    options: options, status: status, onUpgrade: onUpgrade
  };
})();
