// What the desk's three pages share, on top of every demo's page.js. Plain
// ECMAScript 3 and DOM level 1 on purpose: the pages run wherever the client
// does, IE6 included (over JSONP).
var desk = (function () {
  var $ = page.$;
  var text = page.text;
  var element = page.element;

  function show(id, visible) {
    var node = $(id);
    node.className = visible ? node.className.replace(/(^| )hidden\b/g, "") : node.className + " hidden";
  }

  function strip(value) {
    return value.replace(/^\s+|\s+$/g, "");
  }

  function clock(ms) {
    var time = new Date(ms);
    return time.getHours() + ":" + page.pad(time.getMinutes());
  }

  // The company is in the address: /desk/<company>/...
  function company() {
    var match = /^\/desk\/([a-z0-9-]+)/.exec(window.location.pathname);
    return match ? match[1] : "";
  }

  function status(socket) {
    page.status(socket, $("status"), "offline");
  }

  // Keeps the status right as the socket comes, goes and upgrades.
  function watch(socket) {
    socket.on("connect", function () {
      problem(null);
      status(socket);
      page.onUpgrade(socket, function () {
        status(socket);
      });
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
    $: $, clear: page.clear, text: text, element: element, show: show, strip: strip,
    load: page.stored, save: page.store, company: company, options: page.options, watch: watch,
    problem: problem, messageItem: messageItem, append: append, typingSender: typingSender
  };
})();
