/* How many SMS parts a text needs: the same rules as modemd.pdu.count (a test compares them).
   GSM 7-bit when every character is in the GSM alphabet (extension characters cost 2 septets),
   otherwise UCS2 (characters outside the BMP, like most emoji, cost 2 UTF-16 units).
   One part holds 160 septets / 70 units; parts of a long message hold 153 / 67
   (the concatenation header takes 6 octets), and a character never straddles two parts. */
(function (global) {
  "use strict";
  var BASIC = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\u001bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
  var EXTENSION = "\f^{}\\[~]|€";
  var COST = {};
  for (var i = 0; i < BASIC.length; i++) { if (BASIC.charCodeAt(i) !== 0x1b) { COST[BASIC[i]] = 1; } }
  for (var j = 0; j < EXTENSION.length; j++) { COST[EXTENSION[j]] = 2; }

  function count(text) {
    var chars = Array.from(text);  // code points, as Python counts them
    var gsm = chars.every(function (c) { return COST[c] !== undefined; });
    var encoding = gsm ? "gsm7" : "ucs2";
    var costs = chars.map(function (c) {
      if (gsm) { return COST[c]; }
      return c.codePointAt(0) > 0xffff ? 2 : 1;
    });
    var total = costs.reduce(function (a, b) { return a + b; }, 0);
    var single = gsm ? 160 : 70;
    if (total <= single) {
      return { encoding: encoding, chars: chars.length, units: total, parts: 1, per_part: single, remaining: single - total };
    }
    var capacity = gsm ? 153 : 67;
    var parts = 1, used = 0;
    costs.forEach(function (cost) {
      if (used + cost > capacity) { parts += 1; used = 0; }
      used += cost;
    });
    return { encoding: encoding, chars: chars.length, units: total, parts: parts, per_part: capacity, remaining: capacity - used };
  }

  global.modemdSmsCount = count;
})(window);
