// Polling over XMLHttpRequest: CORS XHR where the browser has it,
// XDomainRequest for cross-origin on IE8/9, ActiveX XMLHTTP on IE6.

function createXHR(crossDomain, secure) {
  if (typeof XMLHttpRequest !== "undefined") {
    try {
      var xhr = new XMLHttpRequest();
      if (!crossDomain || "withCredentials" in xhr) {
        return xhr;
      }
    } catch (e) {}
  }
  if (crossDomain) {
    // XDomainRequest cannot change the scheme of the page.
    if (typeof XDomainRequest !== "undefined" &&
        root.location && root.location.protocol === (secure ? "https:" : "http:")) {
      return new XDomainRequest();
    }
    return null;
  }
  try {
    return new root.ActiveXObject("Microsoft.XMLHTTP");
  } catch (e) {}
  return null;
}

function XHRPolling(opts) {
  Polling.call(this, opts);
}

inherit(XHRPolling, Polling);

XHRPolling.canReach = function (opts) {
  return !!createXHR(opts.crossDomain, opts.secure);
};

XHRPolling.prototype.doPoll = function () {
  var self = this;
  this.request("GET", null, function (text) {
    self.onData(text);
  }, function (status) {
    self.onError("xhr poll error", status);
  });
};

XHRPolling.prototype.doWrite = function (payload, done) {
  var self = this;
  this.request("POST", payload, done, function (status) {
    self.onError("xhr post error", status);
  });
};

XHRPolling.prototype.request = function (method, body, onSuccess, onFailure) {
  var opts = this.opts;
  var xhr = createXHR(opts.crossDomain, opts.secure);
  // Cross-origin requests only get an XMLHttpRequest that speaks CORS, so
  // one without withCredentials is IE8/9's XDomainRequest.
  var isXDR = !!xhr && opts.crossDomain && !("withCredentials" in xhr);
  var finished = false;
  function finish(ok, value) {
    if (finished) {
      return;
    }
    finished = true;
    if (isXDR) {
      xhr.onload = xhr.onerror = xhr.ontimeout = noop;
    } else {
      xhr.onreadystatechange = noop;
    }
    if (ok) {
      onSuccess(value);
    } else {
      onFailure(value);
    }
  }
  // Failures are reported on a later tick so callers never see them re-entrantly.
  function failLater(value) {
    setTimeout(function () {
      finish(false, value);
    }, 0);
  }
  try {
    xhr.open(method, this.pollUri(), true);
    if (isXDR) {
      xhr.onprogress = noop; // IE9 aborts XDomainRequests that lack it
      xhr.onerror = xhr.ontimeout = function () {
        failLater(0);
      };
      xhr.onload = function () {
        finish(true, xhr.responseText);
      };
      setTimeout(function () {
        xhr.send(body);
      }, 0);
      return;
    }
    if (opts.withCredentials && "withCredentials" in xhr) {
      xhr.withCredentials = true;
    }
    if (method === "POST") {
      xhr.setRequestHeader("Content-Type", "text/plain;charset=UTF-8");
    }
    var headers = opts.extraHeaders;
    for (var name in headers) {
      if (hasOwn.call(headers, name)) {
        xhr.setRequestHeader(name, headers[name]);
      }
    }
    xhr.onreadystatechange = function () {
      if (xhr.readyState !== 4) {
        return;
      }
      var status = 0;
      try {
        status = xhr.status;
      } catch (e) {}
      // 1223 is how IE reports a 204.
      if (status === 200 || status === 1223) {
        finish(true, xhr.responseText);
      } else {
        failLater(status);
      }
    };
    xhr.send(body);
  } catch (e) {
    failLater(e);
  }
};
