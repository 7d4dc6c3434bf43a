// Event emitter shared by every layer. Listener lists are keyed with a "$"
// prefix so that event names like "constructor" cannot hit Object.prototype.

function Emitter() {}

Emitter.prototype.on = function (event, fn) {
  var lists = this._listeners || (this._listeners = {});
  (lists["$" + event] || (lists["$" + event] = [])).push(fn);
  return this;
};

Emitter.prototype.addEventListener = Emitter.prototype.on;

Emitter.prototype.once = function (event, fn) {
  var self = this;
  function wrapper() {
    self.off(event, wrapper);
    fn.apply(this, arguments);
  }
  wrapper.fn = fn;
  return this.on(event, wrapper);
};

Emitter.prototype.off = function (event, fn) {
  var lists = this._listeners;
  if (!lists) {
    return this;
  }
  if (!arguments.length) {
    this._listeners = {};
    return this;
  }
  var list = lists["$" + event];
  if (!list) {
    return this;
  }
  if (arguments.length === 1) {
    delete lists["$" + event];
    return this;
  }
  for (var i = 0; i < list.length; i++) {
    if (list[i] === fn || list[i].fn === fn) {
      list.splice(i, 1);
      break;
    }
  }
  if (!list.length) {
    delete lists["$" + event];
  }
  return this;
};

Emitter.prototype.removeListener = Emitter.prototype.off;
Emitter.prototype.removeAllListeners = Emitter.prototype.off;

// Calls the listeners of a snapshot of the list: a listener that removes
// itself (once) must not make the next one skip.
Emitter.prototype.emit = function (event) {
  var list = this._listeners && this._listeners["$" + event];
  if (list) {
    var args = toArray(arguments, 1);
    list = list.slice(0);
    for (var i = 0; i < list.length; i++) {
      list[i].apply(this, args);
    }
  }
  return this;
};

// Socket overrides emit() to send to the server; every layer fires its own
// events through fire().
Emitter.prototype.fire = Emitter.prototype.emit;

Emitter.prototype.listeners = function (event) {
  var list = this._listeners && this._listeners["$" + event];
  return list ? list.slice(0) : [];
};

Emitter.prototype.hasListeners = function (event) {
  return this.listeners(event).length > 0;
};

// Subscribes and returns the function that undoes it, so owners can drop
// every subscription they made in one loop.
function listen(emitter, event, fn) {
  emitter.on(event, fn);
  return function () {
    emitter.off(event, fn);
  };
}
