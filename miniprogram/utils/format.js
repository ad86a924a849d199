// Time and phone formatting. Times from the API are ISO 8601 with an offset (+08:00);
// they are shown in China time whatever the phone's time zone is.

const ISO_RE = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/
const CHINA_OFFSET_MIN = 8 * 60

function pad(n) {
  return n < 10 ? '0' + n : '' + n
}

// Milliseconds since the epoch, or NaN. Parsed by hand: iOS's Date parser is picky.
function parseTime(value) {
  if (typeof value !== 'string') return NaN
  const m = ISO_RE.exec(value.trim())
  if (!m) return NaN
  let offsetMin = CHINA_OFFSET_MIN // no offset given: China time
  if (m[7] === 'Z') {
    offsetMin = 0
  } else if (m[7]) {
    const sign = m[7][0] === '-' ? -1 : 1
    const digits = m[7].slice(1).replace(':', '')
    offsetMin = sign * (parseInt(digits.slice(0, 2), 10) * 60 + parseInt(digits.slice(2), 10))
  }
  const utc = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +(m[6] || 0))
  return utc - offsetMin * 60000
}

// "2026-11-23T18:05:00+08:00" -> "2026-11-23 18:05" (China time). Empty for missing or bad input.
function formatTime(value) {
  const ms = parseTime(value)
  if (isNaN(ms)) return ''
  const d = new Date(ms + CHINA_OFFSET_MIN * 60000)
  return d.getUTCFullYear() + '-' + pad(d.getUTCMonth() + 1) + '-' + pad(d.getUTCDate()) +
    ' ' + pad(d.getUTCHours()) + ':' + pad(d.getUTCMinutes())
}

// "13800000001" -> "138****0001". Already masked or short values are returned as they are.
function maskPhone(phone) {
  if (!phone || typeof phone !== 'string' || phone.length < 7 || phone.indexOf('*') >= 0) return phone || ''
  return phone.slice(0, 3) + '****' + phone.slice(-4)
}

const PHONE_RE = /^1[3-9]\d{9}$/

function isPhone(value) {
  return PHONE_RE.test(value || '')
}

module.exports = { parseTime, formatTime, maskPhone, isPhone }
