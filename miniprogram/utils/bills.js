// Bills (GET /api/v1/bills): what each line is based on, in plain words, and grouping by house and period.
//
// BillOut.details carries the formula's inputs but not the fee item's kind, unit or meter kind, so the
// shape of `details` says which formula it was, and the meter kind (water / electricity / gas, for the
// unit) is read from the item's code and name. When nothing fits, the basis is simply left out.

const { yuan, formatYuan, formatQuantity } = require('./money')
const { formatTime, chinaDate } = require('./format')

// Meter kinds as the owner reads them: verb ("用水") and unit ("吨").
const METERS = [
  { test: /water|水/i, verb: '用水', unit: '吨' },
  { test: /gas|燃气|煤气|天然气/i, verb: '用气', unit: '立方米' },
  { test: /power|electric|电/i, verb: '用电', unit: '度' },
]

function meterOf(bill) {
  const text = (bill.item_code || '') + ' ' + (bill.item || '')
  return METERS.find((m) => m.test.test(text)) || null
}

const has = (obj, key) => obj[key] !== undefined && obj[key] !== null && obj[key] !== ''

// "89.50㎡ × 2.35 元/㎡", "用水 12.5 吨 × 3.50 元/吨", "公摊：1 栋共 480 度 按面积分摊", "300.00 元/月 × 1".
function basisText(bill) {
  const d = (bill && bill.details) || {}
  const price = typeof d.price_fen === 'number' ? yuan(d.price_fen) : ''
  if (has(d, 'area_m2') && price) {
    // Property management / heating: floor area x price per square metre.
    return d.area_m2 + '㎡ × ' + price + ' 元/㎡'
  }
  if (has(d, 'consumption') && price) {
    // A house meter: consumption x unit price.
    const meter = meterOf(bill)
    const used = formatQuantity(d.consumption)
    return meter
      ? meter.verb + ' ' + used + ' ' + meter.unit + ' × ' + price + ' 元/' + meter.unit
      : '用量 ' + used + ' × ' + price + ' 元'
  }
  if (has(d, 'building') && has(d, 'building_consumption')) {
    // Shared cost: the building's common meter split among its houses.
    const meter = meterOf(bill)
    const used = formatQuantity(d.building_consumption)
    const how = d.split === 'household' ? '按户均摊' : '按面积分摊'
    return '公摊：' + d.building + ' 栋共 ' + used + (meter ? ' ' + meter.unit : '') + ' ' + how
  }
  if (has(d, 'quantity') && price) {
    // A fixed monthly amount (e.g. parking space rent) x quantity.
    return price + ' 元/月 × ' + d.quantity
  }
  return ''
}

// "2026-11" -> "2026年11月".
function periodText(period) {
  const m = /^(\d{4})-(\d{2})/.exec(period || '')
  return m ? m[1] + '年' + Number(m[2]) + '月' : period || ''
}

// A bill with the texts the templates show. `today` ("YYYY-MM-DD", China time) for the overdue mark.
function decorate(bill, today) {
  const day = today || chinaDate(0)
  return Object.assign({}, bill, {
    amount_text: formatYuan(bill.amount_fen),
    basis: basisText(bill),
    due_text: bill.due_date || '',
    overdue: bill.status === 'unpaid' && !!bill.due_date && bill.due_date < day,
    paid_text: formatTime(bill.paid_at),
  })
}

// Bills (newest period first, as the API sends them) -> [{key, label, total_fen, total_text,
// periods: [{key, period, period_text, bills: [...]}]}], houses in the order they first appear.
// isSelected(bill) marks bill.selected (unpaid tab).
function group(bills, isSelected, today) {
  const houses = []
  const byHouse = {}
  ;(bills || []).forEach((raw) => {
    const bill = decorate(raw, today)
    bill.selected = isSelected ? !!isSelected(raw) : false
    const house = raw.house || {}
    const hkey = 'h' + (house.id === undefined ? '' : house.id)
    let h = byHouse[hkey]
    if (!h) {
      h = { key: hkey, id: house.id, label: house.label || '', total_fen: 0, periods: [], byPeriod: {} }
      byHouse[hkey] = h
      houses.push(h)
    }
    let p = h.byPeriod[raw.period]
    if (!p) {
      p = { key: hkey + '-' + raw.period, period: raw.period, period_text: periodText(raw.period), bills: [] }
      h.byPeriod[raw.period] = p
      h.periods.push(p)
    }
    p.bills.push(bill)
    h.total_fen += raw.amount_fen || 0
  })
  return houses.map((h) => {
    const ids = [].concat(...h.periods.map((p) => p.bills.map((b) => b.id)))
    return {
      key: h.key,
      id: h.id,
      label: h.label,
      ids,
      total_text: formatYuan(h.total_fen),
      all_selected: h.periods.every((p) => p.bills.every((b) => b.selected)),
      periods: h.periods,
    }
  })
}

module.exports = { basisText, periodText, decorate, group, meterOf }
