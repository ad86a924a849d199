const { setup, flush, loadPage, text, exists, all, tap, envelope } = require('./helpers/env')
const { bill, payment, PAY_PARAMS } = require('./helpers/billing')
const { order } = require('./helpers/orders')

let fake
let wxState

beforeEach(() => {
  ;({ fake, wx: wxState } = setup())
})

describe('payment detail', () => {
  let current

  beforeEach(() => {
    current = payment(90, { status: 'paid', bill_ids: [11, 12], amount_fen: 25408 })
    fake.on('GET', '/api/v1/payments/:id', () => current)
    fake.on('GET', '/api/v1/bills', () => [
      bill(11, { status: 'paid', item_code: 'property' }),
      bill(12, { status: 'paid', item_code: 'water' }),
      bill(13, { item_code: 'shared-power' }),
    ])
  })

  async function open(p) {
    if (p) current = p
    const page = loadPage('pages/payments/detail')
    page.instance.onLoad({ id: '90' })
    await flush()
    return page
  }

  test('status, amount, receipt number and the items', async () => {
    const page = await open()
    expect(text(page, '#status')).toBe('已支付')
    expect(all(page, '#status')[0].dom.getAttribute('style')).toContain('#1e8e3e')
    expect(text(page, '#amount')).toBe('254.08 元')
    expect(text(page, '#receipt-no')).toBe('SJ2026-000123')
    expect(text(page, '#paid-at')).toBe('2026-11-23 10:01')
    const items = all(page, '.item').map((n) => n.dom.textContent.replace(/\s+/g, ' ').trim())
    expect(items).toEqual([
      expect.stringContaining('物业管理费 2026年11月'),
      expect.stringContaining('水费（代收） 2026年11月'),
    ])
    expect(items[0]).toContain('1栋1单元101')
    expect(items[0]).toContain('210.33 元')
    expect(exists(page, '#pending')).toBe(false)
  })

  test('查看电子收据 renders the receipt from the payment; 复制收据号 copies it', async () => {
    const page = await open()
    expect(exists(page, '#receipt')).toBe(false)
    await tap(page, '#open-receipt')
    const receipt = text(page, '#receipt')
    expect(receipt).toContain('收款收据')
    expect(receipt).toContain('收据号：SJ2026-000123')
    expect(receipt).toContain('收款时间：2026-11-23 10:01')
    expect(receipt).toContain('支付方式：微信支付')
    expect(receipt).toContain('物业管理费 2026年11月（1栋1单元101）')
    expect(receipt).toContain('合计254.08 元')
    expect(wxState.downloads).toEqual([]) // nothing downloaded: the HTML receipt needs a header a web-view cannot send
    await tap(page, '#copy-receipt')
    expect(wxState.clipboard).toEqual(['SJ2026-000123'])
    await tap(page, '#close-receipt')
    expect(exists(page, '#receipt')).toBe(false)
  })

  test('a pending payment has no receipt yet and offers 刷新', async () => {
    const page = await open(payment(90, { status: 'pending', bill_ids: [11] }))
    expect(text(page, '#status')).toBe('待支付')
    expect(text(page, '#pending')).toContain('正在等待微信支付的结果')
    expect(exists(page, '#open-receipt')).toBe(false)
    current = payment(90, { status: 'paid', bill_ids: [11] })
    await tap(page, '#refresh')
    expect(text(page, '#status')).toBe('已支付')
    expect(exists(page, '#open-receipt')).toBe(true)
  })

  test('closed and refunded payments say so', async () => {
    const closed = await open(payment(90, { status: 'closed', bill_ids: [11] }))
    expect(text(closed, '#closed')).toContain('该支付已关闭，没有扣款')
    const refunded = await open(payment(90, { status: 'partially_refunded', bill_ids: [11], refunded_fen: 4375 }))
    expect(text(refunded, '#status')).toBe('部分退款')
    expect(text(refunded, '#refunded')).toBe('已退款 43.75 元')
  })

  test('a paid-service payment shows its order', async () => {
    fake.on('GET', '/api/v1/work-orders/:id', () => order(7, { kind: 'service', status: 'closed', final_fen: 6250 }))
    const page = await open(payment(90, { status: 'paid', bill_ids: [], work_order_ids: [7], amount_fen: 6250, description: '有偿服务 FW20261123-0007' }))
    const items = all(page, '.item').map((n) => n.dom.textContent.replace(/\s+/g, ' ').trim())
    expect(items).toHaveLength(1)
    expect(items[0]).toContain('有偿服务 FW20261123-0007 疏通下水道')
    expect(items[0]).toContain('62.50 元')
  })

  test('items that cannot be loaded do not hide the payment; retry', async () => {
    let fail = true
    fake.on('GET', '/api/v1/bills', () => (fail ? envelope(503, 'unavailable', '服务暂时不可用') : [bill(11, { status: 'paid' })]))
    const page = await open(payment(90, { status: 'paid', bill_ids: [11] }))
    expect(text(page, '#amount')).toBe('254.08 元')
    expect(text(page, '#items')).toContain('明细暂时无法显示')
    fail = false
    await tap(page, '#items-retry')
    expect(all(page, '.item')).toHaveLength(1)
  })

  test('not mine: the message and a retry', async () => {
    fake.on('GET', '/api/v1/payments/:id', () => envelope(404, 'not_found', '未找到该支付'))
    const page = await open()
    expect(text(page, '#error')).toContain('未找到该支付')
  })
})

describe('paying a paid-service order from its detail', () => {
  let current
  let pay

  const SUBS = [{ key: 'payment_result', template_id: 'tpl-payment-result', title: '缴费成功通知', credits: 0 }]

  beforeEach(() => {
    current = order(7, { kind: 'service', status: 'confirmed', quote_fen: 5000, final_fen: 6250, materials_fen: 1250, paid_fen: 1000, rating: 5 })
    pay = null
    fake.on('GET', '/api/v1/work-orders/:id', () => current)
    fake.on('GET', '/api/v1/me/subscriptions', () => SUBS)
    fake.on('POST', '/api/v1/me/subscriptions', () => SUBS)
    fake.on('POST', '/api/v1/payments', (req) => {
      pay = payment(91, { work_order_ids: [req.body.work_order_id], amount_fen: 5250 })
      return { status: 201, body: pay }
    })
    let n = 0
    fake.on('GET', '/api/v1/payments/:id', () => {
      n += 1
      if (n > 1) pay = Object.assign({}, pay, { status: 'paid', status_label: '已支付', receipt_no: 'SJ2026-000124', pay_params: null })
      return pay
    })
  })

  async function open(o) {
    if (o) current = o
    const page = loadPage('pages/orders/detail')
    page.instance.onLoad({ id: '7' })
    await flush()
    return page
  }

  test('money due: 在线支付 sends only the order id, passes pay_params through, polls, opens the payment', async () => {
    const page = await open()
    expect(text(page, '#due')).toContain('52.50 元')
    expect(text(page, '#pay')).toBe('在线支付 52.50 元')
    const done = page.instance.onPay()
    expect(wxState.subscribeRequests).toEqual([['tpl-payment-result']]) // inside the tap
    await done
    await flush(20)
    expect(fake.callsTo('POST', '/api/v1/payments').map((c) => c.body)).toEqual([{ work_order_id: 7 }])
    expect(wxState.paymentRequests).toEqual([PAY_PARAMS])
    expect(fake.callsTo('GET', '/api/v1/payments/91')).toHaveLength(2)
    expect(wxState.navigations).toEqual([['navigateTo', '/pages/payments/detail?id=91']])
    // Back on the order: reloaded.
    page.instance.onShow()
    page.instance.onShow()
    await flush()
    expect(fake.callsTo('GET', '/api/v1/work-orders/7')).toHaveLength(2)
  })

  test('no button when nothing is due, before the work is done, or for a repair', async () => {
    const paid = await open(order(7, { kind: 'service', status: 'closed', final_fen: 6250, paid_fen: 6250 }))
    expect(exists(paid, '#pay')).toBe(false)
    const working = await open(order(7, { kind: 'service', status: 'on_site', quote_fen: 5000 }))
    expect(exists(working, '#pay')).toBe(false)
    const repair = await open(order(7, { kind: 'repair', status: 'completed', final_fen: 1200 }))
    expect(exists(repair, '#pay')).toBe(false)
    const completed = await open(order(7, { kind: 'service', status: 'completed', final_fen: 5000 }))
    expect(exists(completed, '#pay')).toBe(true)
  })

  test('cancelled: 已取消支付, nothing else happens', async () => {
    const page = await open()
    wxState.paymentAnswers.push('cancel')
    await tap(page, '#pay')
    await flush()
    expect(wxState.toasts).toContain('已取消支付')
    expect(wxState.navigations).toEqual([])
    expect(exists(page, '#pay')).toBe(true)
    expect(page.instance.data.payStage).toBe('')
  })

  test('409 (already paid at the desk): the reason is shown and the order reloaded', async () => {
    fake.on('POST', '/api/v1/payments', () => {
      current = Object.assign({}, current, { paid_fen: 6250 })
      return envelope(409, 'already_paid', '该工单已付清')
    })
    const page = await open()
    await tap(page, '#pay')
    await flush()
    expect(text(page, '#notice')).toBe('该工单已付清')
    expect(exists(page, '#pay')).toBe(false)
    expect(wxState.paymentRequests).toEqual([])
  })
})
