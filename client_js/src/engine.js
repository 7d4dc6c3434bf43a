// The Engine.IO client session: handshake, heartbeat, write buffer and the
// upgrade from polling to WebSocket.
// Events: "open", "data" (a message), "ping", "upgrade", "upgradeError",
// "error", "close" (reason, details).

var TRANSPORT_CLASSES = {
  websocket: WebSocketTransport,
  polling: XHRPolling,
  jsonp: JSONPPolling
};

// "polling" means XHR when the browser can reach the server with it and
// JSONP otherwise (unless the jsonp option is false); transports the
// browser lacks are left out.
function usableTransports(names, opts) {
  var usable = [];
  for (var i = 0; i < names.length; i++) {
    var name = names[i];
    if (name === "polling" && !XHRPolling.canReach(opts)) {
      name = opts.jsonp === false ? "" : "jsonp";
    }
    var Class = TRANSPORT_CLASSES[name];
    if (Class && Class.canReach(opts) && indexOf(usable, name) < 0) {
      usable.push(name);
    }
  }
  return usable;
}

// Engines with an open session, told when the page goes away.
var openEngines = [];

function onPageHide() {
  var engines = openEngines.slice(0);
  for (var i = 0; i < engines.length; i++) {
    engines[i].goodbye();
  }
}

if (root.addEventListener) {
  root.addEventListener("pagehide", onPageHide, false);
} else if (root.attachEvent) {
  root.attachEvent("onunload", onPageHide);
}

function EngineSocket(opts) {
  this.opts = opts;
  this.transports = usableTransports(opts.transports || ["polling", "websocket"], opts);
  this.readyState = "";
  this.writeBuffer = [];
  this.prevBufferLen = 0;
  this.upgrading = false;
  this.id = null;
  this.transport = null;
  this.open();
}

inherit(EngineSocket, Emitter);

EngineSocket.prototype.protocol = 4;

EngineSocket.prototype.open = function () {
  var self = this;
  if (!this.transports.length) {
    setTimeout(function () {
      self.fire("error", new Error("No transports available"));
    }, 0);
    return;
  }
  this.readyState = "opening";
  var transport = this.createTransport(this.transports[0]);
  this.setTransport(transport);
  transport.open();
};

EngineSocket.prototype.createTransport = function (name) {
  var query = extend({}, this.opts.query);
  query.EIO = 4;
  query.transport = name === "websocket" ? "websocket" : "polling";
  if (this.id) {
    query.sid = this.id;
  }
  var opts = extend({}, this.opts);
  opts.query = query;
  var transport = new TRANSPORT_CLASSES[name](opts);
  transport.name = name;
  return transport;
};

EngineSocket.prototype.setTransport = function (transport) {
  var self = this;
  if (this.transport) {
    this.transport.off();
  }
  this.transport = transport;
  transport.on("drain", function () {
    self.onDrain();
  });
  transport.on("packet", function (packet) {
    self.onPacket(packet);
  });
  transport.on("error", function (error) {
    self.onError(error);
  });
  transport.on("close", function (details) {
    self.onClose("transport close", details);
  });
};

EngineSocket.prototype.onPacket = function (packet) {
  if (this.readyState !== "opening" && this.readyState !== "open" && this.readyState !== "closing") {
    return;
  }
  switch (packet.type) {
    case "open":
      var handshake;
      try {
        handshake = json.parse(packet.data);
      } catch (e) {
        this.onError(new Error("invalid handshake"));
        return;
      }
      this.onHandshake(handshake);
      break;
    case "ping":
      this.resetPingTimeout();
      this.sendPacket("pong");
      this.fire("ping");
      break;
    case "message":
      this.fire("data", packet.data);
      break;
    case "close":
      // The server said goodbye (shutdown, restart): reconnect from scratch.
      this.onClose("transport close");
      break;
    case "error":
      var error = new Error("server error");
      error.code = packet.data;
      this.onError(error);
      break;
  }
};

EngineSocket.prototype.onHandshake = function (data) {
  this.fire("handshake", data);
  this.id = data.sid;
  this.transport.query.sid = data.sid;
  this.upgrades = [];
  var offered = data.upgrades || [];
  for (var i = 0; i < offered.length; i++) {
    if (indexOf(this.transports, offered[i]) >= 0) {
      this.upgrades.push(offered[i]);
    }
  }
  this.pingInterval = data.pingInterval;
  this.pingTimeout = data.pingTimeout;
  this.maxPayload = data.maxPayload;
  this.readyState = "open";
  openEngines.push(this);
  this.fire("open");
  this.flush();
  if (this.readyState === "open" && this.opts.upgrade !== false && this.transport.name !== "websocket") {
    for (i = 0; i < this.upgrades.length; i++) {
      this.probe(this.upgrades[i]);
    }
  }
  if (this.readyState !== "closed") {
    this.resetPingTimeout();
  }
};

// EIO4: the server pings; silence for pingInterval + pingTimeout means the
// connection is gone even if no transport noticed.
EngineSocket.prototype.resetPingTimeout = function () {
  var self = this;
  clearTimeout(this.pingTimer);
  this.pingTimer = setTimeout(function () {
    self.onClose("ping timeout");
  }, this.pingInterval + this.pingTimeout);
};

// Opens the new transport beside the running one, checks it with a
// ping/pong "probe", then pauses polling and switches over.
EngineSocket.prototype.probe = function (name) {
  var self = this;
  var transport = this.createTransport(name);
  var failed = false;

  function onTransportOpen() {
    if (failed) {
      return;
    }
    transport.send([{ type: "ping", data: "probe" }]);
    transport.once("packet", function (message) {
      if (failed) {
        return;
      }
      if (message.type !== "pong" || message.data !== "probe") {
        fail(new Error("probe error"));
        return;
      }
      self.upgrading = true;
      self.fire("upgrading", transport);
      self.transport.pause(function () {
        if (failed || self.readyState === "closed") {
          return;
        }
        cleanup();
        self.setTransport(transport);
        transport.send([{ type: "upgrade" }]);
        self.fire("upgrade", transport);
        self.upgrading = false;
        self.flush();
      });
    });
  }
  function fail(error) {
    if (failed) {
      return;
    }
    failed = true;
    cleanup();
    transport.close();
    self.upgrading = false;
    self.fire("upgradeError", error);
  }
  function onTransportClose() {
    fail(new Error("transport closed"));
  }
  function onSocketClose() {
    fail(new Error("socket closed"));
  }
  function cleanup() {
    transport.off("open", onTransportOpen);
    transport.off("error", fail);
    transport.off("close", onTransportClose);
    self.off("close", onSocketClose);
  }
  transport.once("open", onTransportOpen);
  transport.once("error", fail);
  transport.once("close", onTransportClose);
  this.once("close", onSocketClose);
  transport.open();
};

EngineSocket.prototype.onDrain = function () {
  this.writeBuffer.splice(0, this.prevBufferLen);
  this.prevBufferLen = 0;
  if (this.writeBuffer.length) {
    this.flush();
  } else {
    this.fire("drain");
  }
};

EngineSocket.prototype.flush = function () {
  if (this.readyState !== "closed" && this.transport.writable && !this.upgrading &&
      this.writeBuffer.length) {
    var packets = this.writablePackets();
    this.prevBufferLen = packets.length;
    this.transport.send(packets);
    this.fire("flush");
  }
};

// A polling body must stay under the server's maxPayload: a long queue of
// buffered emits goes out in several POSTs.
EngineSocket.prototype.writablePackets = function () {
  var buffer = this.writeBuffer;
  if (!this.maxPayload || this.transport.name === "websocket") {
    return buffer.slice(0);
  }
  var size = 0;
  for (var i = 0; i < buffer.length; i++) {
    var data = buffer[i].data;
    if (typeof data === "string") {
      size += utf8Length(data) + 2;
    } else if (data) {
      size += Math.ceil((data.byteLength || data.size || 0) * 4 / 3) + 2;
    } else {
      size += 2;
    }
    if (i > 0 && size > this.maxPayload) {
      return buffer.slice(0, i);
    }
  }
  return buffer.slice(0);
};

EngineSocket.prototype.write = function (data) {
  this.sendPacket("message", data);
  return this;
};

EngineSocket.prototype.send = EngineSocket.prototype.write;

EngineSocket.prototype.sendPacket = function (type, data) {
  if (this.readyState === "closing" || this.readyState === "closed") {
    return;
  }
  this.writeBuffer.push({ type: type, data: data });
  this.flush();
};

// Sends what is buffered first, waits for a running upgrade, then closes.
EngineSocket.prototype.close = function () {
  var self = this;
  function close() {
    self.onClose("forced close");
  }
  function afterUpgrade() {
    self.off("upgrade", afterUpgrade);
    self.off("upgradeError", afterUpgrade);
    close();
  }
  function whenIdle() {
    if (self.upgrading) {
      self.once("upgrade", afterUpgrade);
      self.once("upgradeError", afterUpgrade);
    } else {
      close();
    }
  }
  if (this.readyState === "opening" || this.readyState === "open") {
    this.readyState = "closing";
    if (this.writeBuffer.length) {
      this.once("drain", whenIdle);
    } else {
      whenIdle();
    }
  }
  return this;
};

// The page is going away (or into the back/forward cache): say goodbye so
// the server drops the session now, not a heartbeat later. A page restored
// from the cache reconnects like after any cut.
EngineSocket.prototype.goodbye = function () {
  if (this.readyState === "open") {
    if (this.transport.beacon) {
      this.transport.beacon();
    }
    this.onClose("transport close");
  }
};

EngineSocket.prototype.onError = function (error) {
  // Before the handshake, a transport that cannot connect hands over to the
  // next one in the list (e.g. transports: ["websocket", "polling"]).
  if (this.readyState === "opening" && !this.id && this.transports.length > 1) {
    this.transports = this.transports.slice(1);
    this.transport.off();
    this.transport.close();
    this.transport = null;
    this.open();
    return;
  }
  this.fire("error", error);
  this.onClose("transport error", error);
};

EngineSocket.prototype.onClose = function (reason, details) {
  if (this.readyState !== "opening" && this.readyState !== "open" && this.readyState !== "closing") {
    return;
  }
  clearTimeout(this.pingTimer);
  if (this.transport) {
    this.transport.off();
    this.transport.close();
  }
  var index = indexOf(openEngines, this);
  if (index >= 0) {
    openEngines.splice(index, 1);
  }
  this.readyState = "closed";
  this.id = null;
  this.writeBuffer = [];
  this.prevBufferLen = 0;
  this.fire("close", reason, details);
};
