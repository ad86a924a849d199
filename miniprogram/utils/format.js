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

// China-time parts of a moment: {date: "YYYY-MM-DD", time: "HH:mm"}; empty strings for bad input.
function chinaParts(value) {
  const ms = typeof value === 'number' ? value : parseTime(value)
  if (isNaN(ms)) return { date: '', time: '' }
  const d = new Date(ms + CHINA_OFFSET_MIN * 60000)
  return {
    date: d.getUTCFullYear() + '-' + pad(d.getUTCMonth() + 1) + '-' + pad(d.getUTCDate()),
    time: pad(d.getUTCHours()) + ':' + pad(d.getUTCMinutes()),
  }
}

// Today's date in China ("YYYY-MM-DD"), or the date `days` later (date pickers' start/end).
function chinaDate(days, now) {
  const base = now === undefined ? Date.now() : now
  return chinaParts(base + (days || 0) * 86400000).date
}

// Picker values ("2026-11-24", "09:30") -> "2026-11-24T09:30:00+08:00"; empty when either is missing.
function toIso(date, time) {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date || '') || !/^\d{2}:\d{2}$/.test(time || '')) return ''
  return date + 'T' + time + ':00+08:00'
}

// A deadline or appointment in plain words: "今天 18:00", "明天 09:30", "昨天 17:00", else "11-30 18:00"
// (this year) or "2027-01-02 18:00".
function formatFriendly(value, now) {
  const ms = parseTime(value)
  if (isNaN(ms)) return ''
  const base = now === undefined ? Date.now() : now
  const target = chinaParts(ms)
  const words = { [chinaDate(0, base)]: '今天', [chinaDate(1, base)]: '明天', [chinaDate(-1, base)]: '昨天' }
  if (words[target.date]) return words[target.date] + ' ' + target.time
  if (target.date.slice(0, 4) === chinaDate(0, base).slice(0, 4)) return target.date.slice(5) + ' ' + target.time
  return target.date + ' ' + target.time
}

const PHONE_RE = /^1[3-9]\d{9}$/

function isPhone(value) {
  return PHONE_RE.test(value || '')
}

module.exports = { parseTime, formatTime, maskPhone, isPhone, chinaParts, chinaDate, toIso, formatFriendly }
