const { setup, flush, loadPage, text, exists, all, tap, envelope } = require('./helpers/env')
const { bill, payment, PAY_PARAMS } = require('./helpers/billing')
const { basisText } = require('../utils/bills')
const pay = require('../utils/pay')

let fake
let wxState
let unpaid
let current // the payment the fake server holds

const SUBS = (credits) => [
  { key: 'order_status', template_id: 'tpl-order-status', title: '工单进度通知', credits: 0 },
  { key: 'payment_result', template_id: 'tpl-payment-result', title: '缴费成功通知', credits },
]

beforeEach(() => {
  ;({ fake, wx: wxState } = setup())
  unpaid = [
    bill(11, { item_code: 'property' }),
    bill(12, { item_code: 'water' }),
    bill(13, { item_code: 'shared-power' }),
    bill(14, { house_id: 2, item_code: 'parking' }),
    bill(9, { item_code: 'property', period: '2026-10', due_date: '2026-10-16' }),
  ]
  current = null
  fake.on('GET', '/api/v1/bills', (req) => (req.query.status === 'paid'
    ? [bill(5, { status: 'paid', period: '2026-09' })]
    : unpaid.filter((b) => !req.query.status || b.status === req.query.status)))
  fake.on('GET', '/api/v1/me/subscriptions', () => SUBS(0))
  fake.on('POST', '/api/v1/me/subscriptions', () => SUBS(1))
  fake.on('POST', '/api/v1/payments', (req) => {
    const ids = req.body.bill_ids
    const amount = unpaid.filter((b) => ids.indexOf(b.id) >= 0).reduce((s, b) => s + b.amount_fen, 0)
    current = payment(90, { bill_ids: ids.slice().sort((a, b) => a - b), amount_fen: amount })
    return { status: 201, body: current }
  })
  fake.on('GET', '/api/v1/payments/:id', () => current)
})

async function open(query) {
  const page = loadPage('pages/bills/index')
  page.instance.onLoad(query || {})
  await flush()
  return page
}

// The server learns of the payment from WeChat's notification: after `after` polls it says paid.
function paidAfter(polls) {
  let n = 0
  fake.on('GET', '/api/v1/payments/:id', () => {
    n += 1
    if (n > polls) current = Object.assign({}, current, { status: 'paid', status_label: '已支付', receipt_no: 'SJ2026-000123', pay_params: null })
    return current
  })
}

const billText = (page) => all(page, '.bill').map((n) => n.dom.textContent.replace(/\s+/g, ' ').trim())
const payCalls = () => fake.callsTo('POST', '/api/v1/payments')
const polls = () => fake.callsTo('GET', '/api/v1/payments/90')

describe('unpaid bills', () => {
  test('grouped by house and period, each with its basis and amount; all selected', async () => {
    const page = await open()
    expect(fake.requests()).toContain('GET /api/v1/bills?status=unpaid')
    const houses = all(page, '.house')
    expect(houses).toHaveLength(2)
    expect(houses[0].dom.textContent).toContain('1栋1单元101')
    expect(houses[1].dom.textContent).toContain('1栋1单元102')
    const periods = all(page, '.period-head').map((n) => n.dom.textContent)
    expect(periods).toEqual(['2026年11月', '2026年10月', '2026年11月'])
    const lines = billText(page)
    expect(lines[0]).toContain('物业管理费')
    expect(lines[0]).toContain('89.50㎡ × 2.35 元/㎡')
    expect(lines[0]).toContain('210.33 元')
    expect(lines[1]).toContain('用水 12.5 吨 × 3.50 元/吨')
    expect(lines[1]).toContain('43.75 元')
    expect(lines[2]).toContain('公摊：1 栋共 480 度 按面积分摊')
    expect(lines[3]).toContain('2026-10-16（已逾期）') // October's bill, past its due date
    expect(lines[4]).toContain('300.00 元/月 × 1')
    expect(all(page, '.bill-selected')).toHaveLength(5)
    expect(text(page, '#sum')).toBe('已选 5 笔 838.81 元')
    expect(houses[0].dom.textContent).toContain('共 538.81 元')
  })

  test('basis texts in plain words', () => {
    expect(basisText(bill(1, { item_code: 'property' }))).toBe('89.50㎡ × 2.35 元/㎡')
    expect(basisText(bill(1, { item_code: 'water' }))).toBe('用水 12.5 吨 × 3.50 元/吨')
    expect(basisText(bill(1, { item_code: 'shared-power' }))).toBe('公摊：1 栋共 480 度 按面积分摊')
    expect(basisText(bill(1, { item_code: 'shared-power', details: { building: '2', building_consumption: '100.50', split: 'household', houses: 8 } })))
      .toBe('公摊：2 栋共 100.5 度 按户均摊')
    expect(basisText(bill(1, { item_code: 'elec', item: '电费（代收）', details: { meter: 'EM-1', consumption: '35.00', price_fen: 62 } })))
      .toBe('用电 35 度 × 0.62 元/度')
    expect(basisText(bill(1, { item_code: 'misc', item: '其他代收', details: { consumption: '3', price_fen: 100 } }))).toBe('用量 3 × 1.00 元')
    expect(basisText(bill(1, { item_code: 'parking' }))).toBe('300.00 元/月 × 1')
    expect(basisText(bill(1, { details: {} }))).toBe('')
    expect(basisText(bill(1, { details: null }))).toBe('')
  })

  test('pays only the selected ids; requestPayment gets pay_params exactly; polling stops on paid', async () => {
    paidAfter(2)
    const page = await open()
    await tap(page, all(page, '.bill')[1]) // deselect the water bill
    expect(text(page, '#sum')).toBe('已选 4 笔 795.06 元')

    const done = page.instance.onPay()
    // The subscription is asked synchronously, inside the tap, before anything is paid.
    expect(wxState.subscribeRequests).toEqual([['tpl-payment-result']])
    expect(payCalls()).toHaveLength(0)
    await done
    await flush(40)

    expect(payCalls().map((c) => c.body)).toEqual([{ bill_ids: [11, 13, 14, 9] }])
    expect(payCalls()[0].body).not.toHaveProperty('amount_fen')
    expect(wxState.paymentRequests).toEqual([PAY_PARAMS])
    expect(polls()).toHaveLength(3) // pending, pending, paid: then it stops
    expect(wxState.loadings).toContain('正在确认支付结果')
    expect(wxState.navigations).toEqual([['navigateTo', '/pages/payments/detail?id=90']])
    expect(page.instance.data.payStage).toBe('')
  })

  test('polling gives up after 15 tries and still opens the payment page', async () => {
    const page = await open()
    await page.instance.onPay()
    await flush(120)
    expect(polls()).toHaveLength(15)
    expect(wxState.toasts).toContain('支付结果确认中，请稍后查看')
    expect(wxState.navigations).toEqual([['navigateTo', '/pages/payments/detail?id=90']])
  })

  test('a cancelled payment says 已取消支付 and keeps the selection; paying again reuses the pending payment', async () => {
    const page = await open()
    await tap(page, all(page, '.bill')[2]) // deselect the shared-power bill
    wxState.paymentAnswers.push('cancel')
    await page.instance.onPay()
    await flush()
    expect(wxState.toasts).toContain('已取消支付')
    expect(wxState.navigations).toEqual([])
    expect(polls()).toHaveLength(0)
    expect(all(page, '.bill-selected')).toHaveLength(4)
    expect(page.instance.selectedIds()).toEqual([11, 12, 14, 9])
    expect(page.instance.data.payStage).toBe('')

    // Same selection again: the pending payment (its bills are held) is paid, not a new one.
    paidAfter(1) // the first look (is it still payable?) sees it pending; the first poll sees it paid
    await page.instance.onPay()
    await flush(20)
    expect(payCalls()).toHaveLength(1)
    expect(polls()).toHaveLength(2)
    expect(wxState.paymentRequests).toEqual([PAY_PARAMS, PAY_PARAMS])
    expect(wxState.navigations).toEqual([['navigateTo', '/pages/payments/detail?id=90']])
  })

  test('a pending payment that has expired is not reused: a new one is made', async () => {
    const page = await open()
    wxState.paymentAnswers.push('cancel')
    await page.instance.onPay()
    await flush()
    current = Object.assign({}, current, { status: 'closed', status_label: '已关闭', pay_params: null })
    paidAfter(1)
    await page.instance.onPay()
    await flush(20)
    expect(payCalls()).toHaveLength(2)
    expect(wxState.navigations).toEqual([['navigateTo', '/pages/payments/detail?id=90']])
  })

  test('409 bill_in_payment: explained, and the list refreshed', async () => {
    fake.on('POST', '/api/v1/payments', () => envelope(409, 'bill_in_payment', '账单正在另一笔支付中，请完成或稍后再试：12'))
    const page = await open()
    unpaid[1] = Object.assign({}, unpaid[1], { in_payment: true })
    await page.instance.onPay()
    await flush()
    expect(text(page, '#notice')).toBe('账单正在另一笔支付中，请完成或稍后再试：12。未完成的支付超时后会自动关闭，之后即可重新缴费；列表已刷新。')
    expect(fake.callsTo('GET', '/api/v1/bills')).toHaveLength(2)
    expect(billText(page)[1]).toContain('支付中')
    expect(wxState.paymentRequests).toEqual([])
    expect(page.instance.data.payStage).toBe('')
  })

  test('409 bill_not_payable: refreshed; the paid bill is gone', async () => {
    fake.on('POST', '/api/v1/payments', () => envelope(409, 'bill_not_payable', '账单已缴或已处理：11'))
    const page = await open()
    unpaid.shift()
    await page.instance.onPay()
    await flush()
    expect(text(page, '#notice')).toBe('账单已缴或已处理：11。列表已刷新，请重新选择。')
    expect(all(page, '.bill')).toHaveLength(4)
  })

  test('a failed payment sheet says so; a field error on bill_ids is shown', async () => {
    wxState.paymentAnswers.push('fail')
    const page = await open()
    await page.instance.onPay()
    await flush()
    expect(text(page, '#notice')).toBe('支付未完成，请稍后重试')
    expect(polls()).toHaveLength(0)

    fake.on('POST', '/api/v1/payments', () => envelope(422, 'validation_error', '提交的内容有误', { bill_ids: ['不同小区的账单请分开缴纳'] }))
    await tap(page, all(page, '.bill')[0]) // another selection: a new payment
    await page.instance.onPay()
    await flush()
    expect(text(page, '#notice')).toBe('不同小区的账单请分开缴纳')
  })

  test('the subscription is not asked for when a credit is left', async () => {
    fake.on('GET', '/api/v1/me/subscriptions', () => SUBS(2))
    paidAfter(0)
    const page = await open()
    await page.instance.onPay()
    await flush(20)
    expect(wxState.subscribeRequests).toEqual([])
    expect(payCalls()).toHaveLength(1)
  })

  test('house and 全选 toggles; nothing selected: nothing is paid', async () => {
    const page = await open()
    await tap(page, all(page, '.house-head')[0]) // house 1: all selected -> none
    expect(page.instance.selectedIds()).toEqual([14])
    await tap(page, all(page, '.house-head')[0]) // and back
    expect(page.instance.selectedIds()).toEqual([11, 12, 13, 14, 9])
    await tap(page, '#toggle-all')
    expect(page.instance.selectedIds()).toEqual([])
    expect(text(page, '#sum')).toBe('已选 0 笔 0.00 元')
    await page.instance.onPay()
    expect(text(page, '#notice')).toBe('请选择要缴纳的账单')
    expect(payCalls()).toHaveLength(0)
    await tap(page, '#toggle-all')
    expect(page.instance.selectedIds()).toHaveLength(5)
  })

  test('no bills; a failure offers a retry', async () => {
    fake.offline = true
    const page = await open()
    expect(text(page, '#error')).toContain('网络不给力')
    fake.offline = false
    unpaid = []
    await tap(page, '#retry')
    expect(text(page, '#empty')).toContain('没有待缴账单')
    expect(exists(page, '#pay')).toBe(false)
  })
})

describe('paid bills', () => {
  test('the 已缴 tab lists paid bills with their payment time', async () => {
    const page = await open()
    await tap(page, '#tab-paid')
    expect(fake.requests()).toContain('GET /api/v1/bills?status=paid')
    const lines = all(page, '.paid-bill').map((n) => n.dom.textContent.replace(/\s+/g, ' '))
    expect(lines).toHaveLength(1)
    expect(lines[0]).toContain('物业管理费')
    expect(lines[0]).toContain('缴费时间 2026-11-20 10:00')
    expect(all(page, '.period-head').map((n) => n.dom.textContent)).toEqual(['2026年9月'])
  })

  test('opened with tab=paid', async () => {
    const page = await open({ tab: 'paid' })
    expect(page.instance.data.tab).toBe(1)
    expect(all(page, '.paid-bill')).toHaveLength(1)
  })
})

test('pay util: requestPayment passes the five fields and tells a cancel from a failure', async () => {
  const ok = pay.requestPayment(PAY_PARAMS)
  await expect(ok).resolves.toBeUndefined()
  wxState.paymentAnswers.push('cancel', 'fail')
  const cancelled = await pay.requestPayment(PAY_PARAMS).catch((e) => e)
  expect(pay.isCancel(cancelled)).toBe(true)
  expect(cancelled.message).toBe('已取消支付')
  const failed = await pay.requestPayment(PAY_PARAMS).catch((e) => e)
  expect(pay.isCancel(failed)).toBe(false)
  expect(wxState.paymentRequests).toEqual([PAY_PARAMS, PAY_PARAMS, PAY_PARAMS])
})
