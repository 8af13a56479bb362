// nbw: runs inside a notebook's sandboxed HTML output frame (opaque origin, no access to the
// page) and tells the page its height, so the frame fits its content. Nothing else.
(function () {
  "use strict";
  var last = 0;
  function send() {
    // The root's own box, not scrollHeight, which is never less than the frame's current
    // height and so would let a frame grow but never shrink to its content.
    var height = Math.ceil(document.documentElement.getBoundingClientRect().height);
    if (height !== last) {
      last = height;
      window.parent.postMessage({ nbwFrameHeight: height }, "*");
    }
  }
  window.addEventListener("load", send);
  if (window.ResizeObserver) { new window.ResizeObserver(send).observe(document.documentElement); }
  send();
}());
