// Money: the API speaks integer fen; people read yuan with two decimals ("50.00 元").
// Integer arithmetic only, so 0.1 + 0.2 style float errors never reach the screen.

// 5000 -> "50.00"; -150 -> "-1.50". Empty string for missing or non-integer input.
function yuan(fen) {
  if (typeof fen !== 'number' || !isFinite(fen) || Math.floor(fen) !== fen) return ''
  const sign = fen < 0 ? '-' : ''
  const abs = Math.abs(fen)
  const cents = abs % 100
  return sign + Math.floor(abs / 100) + '.' + (cents < 10 ? '0' : '') + cents
}

// 5000 -> "50.00 元". Empty string for missing input.
function formatYuan(fen) {
  const y = yuan(fen)
  return y ? y + ' 元' : ''
}

// A decimal quantity as typed ("2.5", "3", "0.25") -> hundredths as an integer (250), or NaN when it is
// not a plain non-negative number with at most two decimals.
function toHundredths(value) {
  const text = String(value === undefined || value === null ? '' : value).trim()
  if (!/^\d+(\.\d{0,2})?$/.test(text)) return NaN
  const parts = text.split('.')
  const frac = (parts[1] || '').padEnd(2, '0')
  return parseInt(parts[0], 10) * 100 + parseInt(frac, 10)
}

// The amount for a material line, as the server computes it: price x quantity rounded half up to the
// fen (335 fen/m x 2.5 m = 837.5 -> 838). NaN when the quantity is invalid.
function lineAmountFen(priceFen, quantity) {
  const q = toHundredths(quantity)
  if (isNaN(q) || typeof priceFen !== 'number') return NaN
  return Math.floor((priceFen * q + 50) / 100)
}

// "2.50" / 2.5 -> "2.5"; "3.00" -> "3". For showing quantities the API returns as decimal strings.
function formatQuantity(value) {
  const n = Number(value)
  if (value === null || value === undefined || value === '' || isNaN(n)) return ''
  return String(Math.round(n * 100) / 100)
}

module.exports = { yuan, formatYuan, toHundredths, lineAmountFen, formatQuantity }
