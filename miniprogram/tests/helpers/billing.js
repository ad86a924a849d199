// Bills, payments and notices shaped like the API's BillOut, FeePaymentOut and OwnerNotice(Summary)Out.

const PAY_PARAMS = {
  timeStamp: '1763892000',
  nonceStr: 'n0nce5tr',
  package: 'prepay_id=wx2311demo',
  signType: 'RSA',
  paySign: 'c2lnbmF0dXJl==',
}

const HOUSES = {
  1: { id: 1, label: '1栋1单元101' },
  2: { id: 2, label: '1栋1单元102' },
}

const ITEMS = {
  property: { item: '物业管理费', details: { area_m2: '89.50', price_fen: 235 }, amount_fen: 21033 },
  water: { item: '水费（代收）', details: { meter: 'WM-1-1-101', consumption: '12.50', price_fen: 350 }, amount_fen: 4375 },
  'shared-power': {
    item: '公共照明电费（公摊）',
    details: { building: '1', building_consumption: '480.00', building_total_fen: 29760, split: 'area', houses: 4 },
    amount_fen: 7440,
  },
  parking: { item: '车位租金', details: { quantity: 1, price_fen: 30000 }, amount_fen: 30000 },
}

function bill(id, overrides) {
  const o = overrides || {}
  const code = o.item_code || 'property'
  const base = ITEMS[code] || ITEMS.property
  const status = o.status || 'unpaid'
  return Object.assign({
    id,
    house: HOUSES[o.house_id || 1],
    item: base.item,
    item_code: code,
    period: '2026-11',
    amount_fen: base.amount_fen,
    status,
    status_label: { unpaid: '待缴', paid: '已缴', refunded: '已退款', waived: '已减免' }[status],
    due_date: '2099-11-16',
    details: base.details,
    in_payment: false,
    paid_at: status === 'paid' ? '2026-11-20T10:00:00+08:00' : null,
  }, o, { house: HOUSES[o.house_id || 1] })
}

const PAYMENT_LABELS = { pending: '待支付', paid: '已支付', closed: '已关闭', refunding: '退款中', partially_refunded: '部分退款', refunded: '已退款' }

function payment(id, overrides) {
  const o = overrides || {}
  const status = o.status || 'pending'
  return Object.assign({
    id,
    out_trade_no: 'WY20261123100000ABCDE',
    method: 'wechat',
    amount_fen: 25408,
    refunded_fen: 0,
    status,
    description: '物业管理费、水费（代收）（2 笔）',
    receipt_no: status === 'pending' || status === 'closed' ? null : 'SJ2026-000123',
    expires_at: '2099-01-01T00:00:00+08:00',
    paid_at: status === 'pending' || status === 'closed' ? null : '2026-11-23T10:01:05+08:00',
    created_at: '2026-11-23T10:00:00+08:00',
    bill_ids: [],
    work_order_ids: [],
    pay_params: status === 'pending' ? PAY_PARAMS : null,
  }, o, { status_label: PAYMENT_LABELS[status] })
}

const NOTICE_KINDS = { general: '通知', water_cut: '停水通知', power_cut: '停电通知', reminder: '温馨提示', common_problem: '问题答复' }

function notice(id, overrides) {
  const o = overrides || {}
  const kind = o.kind || 'general'
  const content = o.content || '各位业主：\n本周六上午进行消防演练。\n\n请配合。'
  return Object.assign({
    id,
    kind,
    kind_label: NOTICE_KINDS[kind],
    title: '通知 ' + id,
    summary: content.replace(/\s+/g, ' ').slice(0, 60),
    scope_label: '全体住户',
    starts_at: null,
    ends_at: null,
    published_at: '2026-11-23T09:00:00+08:00',
    read: false,
    read_at: null,
    content,
    common_problem_id: null,
  }, o)
}

module.exports = { PAY_PARAMS, bill, payment, notice }
