// Splits "http://host:port/namespace?query" into what the Manager needs.
// Relative forms ("/admin", "//host/admin", "host:port") resolve against
// the page's location.

function parseUrl(uri) {
  var loc = root.location;
  if (!uri) {
    uri = loc.protocol + "//" + loc.host;
  }
  if (uri.charAt(0) === "/") {
    uri = uri.charAt(1) === "/" ? loc.protocol + uri : loc.protocol + "//" + loc.host + uri;
  }
  if (!/^[a-z][a-z0-9+.\-]*:\/\//i.test(uri)) {
    uri = (loc && loc.protocol === "https:" ? "https://" : "http://") + uri;
  }
  var parts = /^([a-z][a-z0-9+.\-]*):\/\/(?:[^\/?#@]*@)?(\[[^\]]*\]|[^\/?#:]*)(?::(\d+))?([^?#]*)(?:\?([^#]*))?/i.exec(uri);
  var scheme = parts[1].toLowerCase();
  var secure = scheme === "https" || scheme === "wss";
  var port = parts[3] || (secure ? "443" : "80");
  var hostname = parts[2].toLowerCase();
  var crossDomain = true;
  if (loc && loc.hostname) {
    crossDomain = loc.hostname.toLowerCase() !== hostname ||
      (loc.port || (loc.protocol === "https:" ? "443" : "80")) !== port ||
      loc.protocol !== (secure ? "https:" : "http:");
  }
  return {
    hostname: hostname,
    port: port,
    secure: secure,
    path: parts[4] || "/",
    query: decodeQuery(parts[5] || ""),
    crossDomain: crossDomain,
    id: (secure ? "https" : "http") + "://" + hostname + ":" + port
  };
}
