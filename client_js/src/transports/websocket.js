// WebSocket: one Engine.IO packet per frame, binary as binary frames.

function webSocketClass() {
  return root.WebSocket || root.MozWebSocket;
}

function WebSocketTransport(opts) {
  Transport.call(this, opts);
}

inherit(WebSocketTransport, Transport);

WebSocketTransport.canReach = function () {
  return !!webSocketClass();
};

WebSocketTransport.prototype.doOpen = function () {
  var self = this;
  var query = extend({}, this.query);
  if (this.opts.timestampRequests) {
    query.t = timestamp();
  }
  var Socket = webSocketClass();
  var ws;
  try {
    ws = this.ws = new Socket(this.uri(this.opts.secure ? "wss" : "ws", query));
  } catch (e) {
    setTimeout(function () {
      self.onError("websocket error", e);
    }, 0);
    return;
  }
  ws.binaryType = "arraybuffer";
  ws.onopen = function () {
    self.onOpen();
  };
  ws.onclose = function (event) {
    self.onClose({ description: "websocket connection closed", context: event });
  };
  ws.onmessage = function (event) {
    self.onData(event.data);
  };
  ws.onerror = function (event) {
    self.onError("websocket error", event);
  };
};

WebSocketTransport.prototype.write = function (packets) {
  var self = this;
  var remaining = packets.length;
  this.writable = false;
  function sent() {
    if (--remaining === 0) {
      // Let the browser take the frames before reporting the buffer drained.
      setTimeout(function () {
        self.writable = true;
        self.fire("drain");
      }, 0);
    }
  }
  for (var i = 0; i < packets.length; i++) {
    encodeEnginePacket(packets[i], true, function (data) {
      try {
        self.ws.send(data);
      } catch (e) {}
      sent();
    });
  }
};

WebSocketTransport.prototype.doClose = function () {
  var ws = this.ws;
  if (ws) {
    ws.onopen = ws.onclose = ws.onmessage = ws.onerror = noop;
    try {
      ws.close();
    } catch (e) {}
    this.ws = null;
  }
};
