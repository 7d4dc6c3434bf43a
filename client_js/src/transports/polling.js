// Long-polling: one GET parked on the server at a time, POSTs for writes.
// Subclasses provide doPoll() and doWrite(data, done); XHR and JSONP differ
// only in how a request travels.

function Polling(opts) {
  Transport.call(this, opts);
  this.polling = false;
}

inherit(Polling, Transport);

Polling.prototype.doOpen = function () {
  this.poll();
};

// Resolves once no request is in flight, so the upgrade can swap transports
// without losing a packet.
Polling.prototype.pause = function (onPause) {
  var self = this;
  var waiting = 0;
  this.readyState = "pausing";
  function paused() {
    if (--waiting <= 0) {
      self.readyState = "paused";
      onPause();
    }
  }
  if (this.polling) {
    waiting++;
    this.once("pollComplete", paused);
  }
  if (!this.writable) {
    waiting++;
    this.once("drain", paused);
  }
  if (!waiting) {
    waiting = 1;
    paused();
  }
};

Polling.prototype.poll = function () {
  this.polling = true;
  this.doPoll();
  this.fire("poll");
};

Polling.prototype.onData = function (payload) {
  if (this.readyState === "closed") {
    return;
  }
  var packets = decodeEnginePayload(payload);
  for (var i = 0; i < packets.length; i++) {
    var packet = packets[i];
    if (this.readyState === "opening" && packet.type === "open") {
      this.onOpen();
    }
    if (packet.type === "close") {
      this.onClose({ description: "transport closed by the server" });
      return;
    }
    this.onPacket(packet);
    if (this.readyState === "closed") {
      return;
    }
  }
  this.polling = false;
  this.fire("pollComplete");
  if (this.readyState === "open") {
    this.poll();
  }
};

// The close packet goes out as a POST; if the handshake is still running it
// waits for it, because a close needs a session id.
Polling.prototype.doClose = function () {
  var self = this;
  function sendClose() {
    self.write([{ type: "close" }]);
  }
  if (this.readyState === "open") {
    sendClose();
  } else {
    this.once("open", sendClose);
  }
};

Polling.prototype.write = function (packets) {
  var self = this;
  this.writable = false;
  encodeEnginePayload(packets, function (payload) {
    self.doWrite(payload, function () {
      self.writable = true;
      self.fire("drain");
    });
  });
};

Polling.prototype.pollUri = function () {
  var query = extend({}, this.query);
  if (this.opts.timestampRequests !== false) {
    query.t = timestamp();
  }
  return this.uri(this.opts.secure ? "https" : "http", query);
};

// A goodbye that survives the page going away: a beacon carrying the close
// packet (JSONP servers read form bodies). Without sendBeacon the server
// notices through the missing heartbeat instead.
Polling.prototype.beacon = function () {
  var nav = root.navigator;
  if (this.readyState === "open" && nav && nav.sendBeacon) {
    try {
      nav.sendBeacon(this.pollUri(), this.query.j != null ? "d=1" : "1");
    } catch (e) {}
  }
};
