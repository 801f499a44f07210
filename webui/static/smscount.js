/* How many SMS parts a text needs: exactly modemd.sms.segmentation.count (tests/test_smscount_js.py
   compares them on thousands of texts under node), so the counter never promises fewer parts than
   are sent.
   GSM 7-bit when every character is in the GSM alphabet (extension characters cost 2 septets),
   otherwise UCS2 (characters outside the BMP, like most emoji, cost 2 UTF-16 units).
   One part holds 160 septets / 70 units; parts of a long message hold 153 / 67
   (the concatenation header takes 6 octets). A part boundary never cuts a character, a flag
   (two regional indicators) or a letter from the combining marks after it (up to 8 units). */
(function (global) {
  "use strict";
  var BASIC = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\u001bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
  var EXTENSION = "\f^{}\\[~]|€";
  var COMBINING = [[0x0300, 0x036f], [0x1ab0, 0x1aff], [0x1dc0, 0x1dff], [0x20d0, 0x20ff], [0xfe20, 0xfe2f]];
  var MAX_ATOM_UNITS = 8;  // longest letter-plus-marks kept in one part
  var COST = {};
  for (var i = 0; i < BASIC.length; i++) { if (BASIC.charCodeAt(i) !== 0x1b) { COST[BASIC[i]] = 1; } }
  for (var j = 0; j < EXTENSION.length; j++) { COST[EXTENSION[j]] = 2; }

  function isRegionalIndicator(c) {
    var code = c.codePointAt(0);
    return code >= 0x1f1e6 && code <= 0x1f1ff;
  }

  function isCombiningMark(c) {
    var code = c.codePointAt(0);
    return COMBINING.some(function (range) { return code >= range[0] && code <= range[1]; });
  }

  /* The units of each piece a part boundary may not cut (modemd.sms.segmentation._atoms). */
  function atoms(chars, unitsOf) {
    var out = [];
    var i = 0;
    while (i < chars.length) {
      var end = i + 1;
      if (isRegionalIndicator(chars[i]) && end < chars.length && isRegionalIndicator(chars[end])) { end += 1; }
      var units = 0;
      for (var k = i; k < end; k++) { units += unitsOf(chars[k]); }
      while (end < chars.length && isCombiningMark(chars[end]) && units < MAX_ATOM_UNITS) {
        units += unitsOf(chars[end]);
        end += 1;
      }
      out.push(units);
      i = end;
    }
    return out;
  }

  function count(text) {
    var chars = Array.from(text);  // code points, as Python counts them
    var gsm = chars.every(function (c) { return COST[c] !== undefined; });
    var encoding = gsm ? "gsm7" : "ucs2";
    var costs = atoms(chars, function (c) {
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
      if (used && used + cost > capacity) { parts += 1; used = 0; }
      used += cost;
    });
    return { encoding: encoding, chars: chars.length, units: total, parts: parts, per_part: capacity, remaining: capacity - used };
  }

  global.modemdSmsCount = count;
})(window);
