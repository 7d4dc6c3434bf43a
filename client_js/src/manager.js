// One Engine.IO connection to a server, shared by every namespace socket on
// it; owns encoding, decoding and reconnection.
// Events: "open", "error", "close", "ping", "packet", "reconnect_attempt",
// "reconnect", "reconnect_error", "reconnect_failed".

function option(value, fallback) {
  return value === undefined ? fallback : value;
}

function Manager(uri, opts) {
  if (typeof uri === "object" && uri && !opts && !uri.hostname) {
    opts = uri;
    uri = undefined;
  }
  opts = extend({}, opts || {});
  var target = typeof uri === "object" && uri ? uri : parseUrl(uri);
  opts.hostname = target.hostname;
  opts.port = target.port;
  opts.secure = target.secure;
  opts.crossDomain = target.crossDomain;
  opts.path = (opts.path || "/socket.io").replace(/\/$/, "") + "/";
  if (typeof opts.query === "string") {
    opts.query = decodeQuery(opts.query);
  }
  opts.query = extend(extend({}, target.query || {}), opts.query || {});
  this.opts = opts;
  this.uri = target;
  this.nsps = {};
  this.subs = [];
  this.readyState = "closed";
  this.reconnecting = false;
  this.skipReconnect = false;
  this.reconnection = option(opts.reconnection, true);
  this.reconnectionAttempts = option(opts.reconnectionAttempts, Infinity);
  this.timeoutMs = option(opts.timeout, 20000);
  this.backoff = new Backoff({
    min: option(opts.reconnectionDelay, 1000),
    max: option(opts.reconnectionDelayMax, 5000),
    jitter: option(opts.randomizationFactor, 0.5)
  });
  this.decoder = new SocketDecoder();
  this.autoConnect = opts.autoConnect !== false;
  if (this.autoConnect) {
    this.open();
  }
}

inherit(Manager, Emitter);

Manager.prototype.open = function (callback) {
  if (this.readyState === "open" || this.readyState === "opening") {
    return this;
  }
  var self = this;
  var engine = this.engine = new EngineSocket(this.opts);
  var timer = null;
  this.readyState = "opening";
  this.skipReconnect = false;
  var stops = [];
  function stop() {
    for (var i = 0; i < stops.length; i++) {
      stops[i]();
    }
    stops = [];
    clearTimeout(timer);
  }
  stops.push(listen(engine, "open", function () {
    stop();
    self.onopen();
    if (callback) {
      callback();
    }
  }));
  function onError(error) {
    stop();
    self.cleanup();
    self.readyState = "closed";
    self.fire("error", error);
    if (callback) {
      callback(error);
    } else {
      self.maybeReconnectOnOpen();
    }
  }
  stops.push(listen(engine, "error", onError));
  stops.push(listen(engine, "close", function (reason) {
    onError(new Error(reason));
  }));
  this.stopOpening = stop;
  if (this.timeoutMs !== false) {
    timer = setTimeout(function () {
      stop();
      engine.close();
      onError(new Error("timeout"));
    }, this.timeoutMs);
  }
  return this;
};

Manager.prototype.connect = Manager.prototype.open;

Manager.prototype.onopen = function () {
  var self = this;
  var engine = this.engine;
  this.cleanup();
  this.readyState = "open";
  this.fire("open");
  this.subs.push(
    listen(engine, "ping", function () {
      self.fire("ping");
    }),
    listen(engine, "data", function (data) {
      var packet;
      try {
        packet = self.decoder.add(data);
      } catch (e) {
        self.onclose("parse error", e);
        return;
      }
      // Outside the try: an exception in an application handler is the
      // application's, not a broken connection.
      if (packet) {
        self.fire("packet", packet);
      }
    }),
    listen(engine, "error", function (error) {
      self.fire("error", error);
    }),
    listen(engine, "close", function (reason, details) {
      self.onclose(reason, details);
    })
  );
};

Manager.prototype.socket = function (nsp, opts) {
  var socket = this.nsps[nsp];
  if (!socket) {
    socket = this.nsps[nsp] = new Socket(this, nsp, opts);
  } else if (this.autoConnect && !socket.active()) {
    socket.connect();
  }
  return socket;
};

// Called when a socket disconnects: the connection closes with the last one.
Manager.prototype.destroySocket = function () {
  for (var nsp in this.nsps) {
    if (hasOwn.call(this.nsps, nsp) && this.nsps[nsp].active()) {
      return;
    }
  }
  this.close();
};

Manager.prototype.packet = function (packet) {
  var messages = encodeSocketPacket(packet);
  for (var i = 0; i < messages.length; i++) {
    this.engine.write(messages[i]);
  }
};

Manager.prototype.cleanup = function () {
  if (this.stopOpening) {
    this.stopOpening();
    this.stopOpening = null;
  }
  for (var i = 0; i < this.subs.length; i++) {
    this.subs[i]();
  }
  this.subs = [];
  this.decoder.reset();
};

Manager.prototype.close = function () {
  this.skipReconnect = true;
  this.reconnecting = false;
  clearTimeout(this.reconnectTimer);
  this.onclose("forced close");
  if (this.engine) {
    this.engine.close();
  }
};

Manager.prototype.disconnect = Manager.prototype.close;

Manager.prototype.onclose = function (reason, details) {
  this.cleanup();
  if (this.engine) {
    this.engine.close();
  }
  this.backoff.reset();
  var wasOpen = this.readyState !== "closed";
  this.readyState = "closed";
  if (wasOpen) {
    this.fire("close", reason, details);
  }
  if (this.reconnection && !this.skipReconnect) {
    this.reconnect();
  }
};

Manager.prototype.maybeReconnectOnOpen = function () {
  if (!this.reconnecting && this.reconnection && this.backoff.attempts === 0) {
    this.reconnect();
  }
};

Manager.prototype.reconnect = function () {
  var self = this;
  if (this.reconnecting || this.skipReconnect) {
    return;
  }
  if (this.backoff.attempts >= this.reconnectionAttempts) {
    this.backoff.reset();
    this.fire("reconnect_failed");
    return;
  }
  this.reconnecting = true;
  this.reconnectTimer = setTimeout(function () {
    if (self.skipReconnect) {
      return;
    }
    self.fire("reconnect_attempt", self.backoff.attempts);
    if (self.skipReconnect) {
      return;
    }
    self.open(function (error) {
      if (error) {
        self.reconnecting = false;
        self.reconnect();
        self.fire("reconnect_error", error);
      } else {
        var attempts = self.backoff.attempts;
        self.reconnecting = false;
        self.backoff.reset();
        self.fire("reconnect", attempts);
      }
    });
  }, this.backoff.duration());
};
