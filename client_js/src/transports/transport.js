// What every transport shares: state, URI building, decoding into packets.
// Events: "open", "packet", "error", "close", "drain" (ready to write again).

function Transport(opts) {
  this.opts = opts;
  this.query = extend({}, opts.query);
  this.readyState = "";
  this.writable = false;
}

inherit(Transport, Emitter);

Transport.prototype.open = function () {
  this.readyState = "opening";
  this.doOpen();
  return this;
};

Transport.prototype.close = function () {
  if (this.readyState === "opening" || this.readyState === "open") {
    this.doClose();
    this.onClose({ description: "closed by the client" });
  }
  return this;
};

Transport.prototype.send = function (packets) {
  if (this.readyState === "open") {
    this.write(packets);
  }
};

Transport.prototype.onOpen = function () {
  this.readyState = "open";
  this.writable = true;
  this.fire("open");
};

Transport.prototype.onData = function (data) {
  this.onPacket(decodeEnginePacket(data));
};

Transport.prototype.onPacket = function (packet) {
  this.fire("packet", packet);
};

Transport.prototype.onError = function (reason, context) {
  var error = new Error(reason);
  error.type = "TransportError";
  error.context = context;
  this.fire("error", error);
};

Transport.prototype.onClose = function (details) {
  if (this.readyState !== "closed") {
    this.readyState = "closed";
    this.fire("close", details);
  }
};

Transport.prototype.pause = function (onPause) {
  onPause();
};

Transport.prototype.uri = function (schema, query) {
  var opts = this.opts;
  var port = opts.port;
  var defaultPort = schema === "https" || schema === "wss" ? "443" : "80";
  var text = encodeQuery(query);
  return schema + "://" + opts.hostname +
    (port && String(port) !== defaultPort ? ":" + port : "") +
    opts.path + (text ? "?" + text : "");
};
