// Notices (GET /api/v1/notices...): the texts the list and the detail show.

const { formatTime, chinaParts, parseTime } = require('./format')

const CUT_LABELS = { water_cut: '停水时间', power_cut: '停电时间' }

// starts_at / ends_at in words: "2026-11-25 09:00 至 17:00" (same day), "2026-11-25 22:00 至 2026-11-26
// 06:00", "2026-11-25 09:00 起", "至 2026-11-25 17:00". Empty when neither is given.
function timeRange(startsAt, endsAt) {
  const start = formatTime(startsAt)
  const end = formatTime(endsAt)
  if (start && end) {
    const sameDay = chinaParts(parseTime(startsAt)).date === chinaParts(parseTime(endsAt)).date
    return start + ' 至 ' + (sameDay ? end.slice(11) : end)
  }
  if (start) return start + ' 起'
  if (end) return '至 ' + end
  return ''
}

function decorate(notice) {
  const n = notice || {}
  const range = timeRange(n.starts_at, n.ends_at)
  return Object.assign({}, n, {
    published_text: formatTime(n.published_at),
    range_text: range,
    range_label: range ? CUT_LABELS[n.kind] || '时间' : '',
    cut: !!CUT_LABELS[n.kind],
    // Content line by line (line breaks kept; an empty line becomes a gap).
    paragraphs: String(n.content || '')
      .split(/\r?\n/)
      .map((text, i) => ({ key: 'p' + i, text, blank: !text.trim() })),
  })
}

module.exports = { timeRange, decorate }
