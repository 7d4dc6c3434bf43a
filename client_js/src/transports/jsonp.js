// Polling for browsers that can reach the server neither through WebSocket
// nor through cross-origin XHR: GETs are <script> tags calling
// ___eio[<index>]("<payload>"), POSTs are a hidden form submitted into an
// iframe, the payload in its field "d".

function JSONPPolling(opts) {
  Polling.call(this, opts);
  var self = this;
  var callbacks = root.___eio || (root.___eio = []);
  this.index = callbacks.length;
  callbacks.push(function (payload) {
    self.onData(payload);
  });
  this.query.j = this.index;
}

inherit(JSONPPolling, Polling);

JSONPPolling.canReach = function () {
  return typeof document !== "undefined" && !!document.createElement;
};

// A <script> added before the page finished loading holds back its load
// event (and keeps the spinner going) for as long as the poll is parked, so
// the first request waits for "load".
function afterLoad(fn) {
  if (!document.readyState || document.readyState === "complete") {
    fn();
  } else if (root.addEventListener) {
    root.addEventListener("load", fn, false);
  } else {
    root.attachEvent("onload", fn);
  }
}

JSONPPolling.prototype.doPoll = function () {
  var self = this;
  if (!this.loaded) {
    afterLoad(function () {
      self.loaded = true;
      if (self.readyState !== "closed") {
        self.doPoll();
      }
    });
    return;
  }
  var script = document.createElement("script");
  this.removeScript();
  script.async = true;
  script.src = this.pollUri();
  // A failed GET (unknown session after a server restart, network down):
  // onerror on modern browsers, readyState "loaded" without a call on old IE.
  script.onerror = function () {
    if (self.script === script) {
      self.onError("jsonp poll error");
    }
  };
  script.onreadystatechange = function () {
    if (/loaded|complete/.test(script.readyState) && self.script === script && self.polling) {
      self.onError("jsonp poll error");
    }
  };
  var head = document.getElementsByTagName("head")[0] || document.body;
  head.appendChild(script);
  this.script = script;
};

JSONPPolling.prototype.removeScript = function () {
  var script = this.script;
  if (script) {
    script.onerror = script.onreadystatechange = null;
    if (script.parentNode) {
      script.parentNode.removeChild(script);
    }
    this.script = null;
  }
};

JSONPPolling.prototype.doWrite = function (payload, done) {
  var self = this;
  var frameName = "eio_iframe_" + this.index;
  var form = this.form;
  if (!form) {
    form = this.form = document.createElement("form");
    this.area = document.createElement("textarea");
    form.style.position = "absolute";
    form.style.top = "-1000px";
    form.style.left = "-1000px";
    form.target = frameName;
    form.method = "POST";
    form.setAttribute("accept-charset", "utf-8");
    this.area.name = "d";
    form.appendChild(this.area);
    document.body.appendChild(form);
  }
  form.action = this.pollUri();

  function createFrame() {
    var frame;
    if (self.frame) {
      self.form.removeChild(self.frame);
    }
    try {
      // IE6-8 ignore a name set after creation; this form throws elsewhere.
      frame = document.createElement("<iframe name=\"" + frameName + "\" src=\"javascript:0\">");
    } catch (e) {
      frame = document.createElement("iframe");
      frame.name = frameName;
    }
    frame.id = frameName;
    self.form.appendChild(frame);
    self.frame = frame;
  }

  function complete() {
    createFrame();
    done();
  }

  createFrame();
  // Servers undo the newline escaping of old JSONP clients ("\n" to a raw
  // newline, "\\n" to "\n"). JSON text only has backslashes in escapes, so
  // writing the two escapes that could form those pairs as \u000a and \u005c
  // leaves nothing to undo, whether or not the server tries.
  this.area.value = payload.replace(/\\(.)/g, function (match, escaped) {
    return escaped === "n" ? "\\u000a" : escaped === "\\" ? "\\u005c" : match;
  });
  try {
    form.submit();
  } catch (e) {}
  if (this.frame.attachEvent) {
    this.frame.onreadystatechange = function () {
      if (self.frame.readyState === "complete") {
        complete();
      }
    };
  } else {
    this.frame.onload = complete;
  }
};

JSONPPolling.prototype.doClose = function () {
  Polling.prototype.doClose.call(this);
  this.removeScript();
  var self = this;
  // The close packet's POST still needs the form; drop it afterwards.
  setTimeout(function () {
    if (self.form && self.form.parentNode && self.writable) {
      self.form.parentNode.removeChild(self.form);
      self.form = null;
    }
  }, 1000);
};
