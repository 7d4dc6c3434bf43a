// Exponential backoff with jitter: attempt n waits about min * 2^n, spread
// by +-jitter so that clients cut off together do not return together.

function Backoff(opts) {
  this.min = opts.min;
  this.max = opts.max;
  this.jitter = opts.jitter;
  this.attempts = 0;
}

Backoff.prototype.duration = function () {
  var ms = this.min * Math.pow(2, this.attempts++);
  if (this.jitter) {
    ms += ms * this.jitter * (Math.random() * 2 - 1);
  }
  return Math.floor(Math.min(ms, this.max));
};

Backoff.prototype.reset = function () {
  this.attempts = 0;
};
