const { setup, flush, loadPage, text, exists, all, tap, input, envelope } = require('./helpers/env')
const { order, summary } = require('./helpers/orders')

let fake
let wxState

beforeEach(() => {
  ;({ fake, wx: wxState } = setup())
})

describe('my orders', () => {
  let orders

  beforeEach(() => {
    orders = []
    for (let id = 45; id >= 1; id--) orders.push(summary(id, { kind: id % 3 === 0 ? 'service' : 'repair', status: id === 45 ? 'completed' : 'submitted' }))
    fake.on('GET', '/api/v1/work-orders', (req) => {
      const page = Number(req.query.page)
      const per = Number(req.query.per_page)
      const list = orders.filter((o) => !req.query.kind || o.kind === req.query.kind)
      return { items: list.slice((page - 1) * per, page * per), total: list.length, page, per_page: per }
    })
  })

  async function open(query) {
    const page = loadPage('pages/orders/index')
    page.instance.onLoad(query || {})
    await flush()
    return page
  }

  const ids = (page) => all(page, '.order').map((n) => Number(n.dom.getAttribute('data-id')))

  test('lists my orders with status badges and amounts', async () => {
    const page = await open()
    expect(fake.requests()).toEqual(['GET /api/v1/work-orders?page=1&per_page=20'])
    expect(ids(page)).toHaveLength(20)
    const first = all(page, '.order')[0]
    expect(first.dom.textContent).toContain('疏通下水道')
    expect(first.dom.textContent).toContain('有偿服务 · FW20261123-0045')
    expect(first.dom.textContent).toContain('1栋1单元101 · 2026-11-23 10:05')
    expect(first.dom.textContent).toContain('费用 50.00 元')
    const badge = all(page, '.status')[0]
    expect(badge.dom.textContent).toBe('待确认')
    expect(badge.dom.getAttribute('style')).toContain('#7b1fa2')
    const repair = all(page, '.order')[1] // id 44: a repair has no price
    expect(repair.dom.textContent).toContain('给排水报修')
    expect(repair.dom.textContent).not.toContain('费用')
  })

  test('tabs filter by kind; 加载更多 appends without duplicates', async () => {
    const page = await open()
    await tap(page, all(page, '.tab')[2]) // 有偿服务
    expect(fake.requests()).toContain('GET /api/v1/work-orders?kind=service&page=1&per_page=20')
    expect(ids(page)).toHaveLength(15)
    expect(exists(page, '#load-more')).toBe(false)
    expect(exists(page, '#no-more')).toBe(true)

    await tap(page, all(page, '.tab')[1]) // 报修
    expect(ids(page)).toHaveLength(20)
    orders.unshift(summary(46)) // a new order pushes page 2 down by one
    await tap(page, '#load-more')
    expect(fake.requests()).toContain('GET /api/v1/work-orders?kind=repair&page=2&per_page=20')
    const list = ids(page)
    expect(list).toHaveLength(30)
    expect(new Set(list).size).toBe(30)
    expect(exists(page, '#no-more')).toBe(true)
  })

  test('pull-down refresh reloads and stops the indicator; coming back refreshes', async () => {
    const page = await open()
    orders.unshift(summary(46))
    await page.instance.onPullDownRefresh()
    expect(ids(page)[0]).toBe(46)
    expect(wxState.stopPullDown).toBe(1)
    page.instance.onShow()
    page.instance.onShow()
    await flush()
    expect(fake.requests().filter((r) => r.startsWith('GET /api/v1/work-orders'))).toHaveLength(3)
  })

  test('tapping an order opens it; no orders offers 报修 and 有偿服务', async () => {
    const page = await open()
    await tap(page, all(page, '.order')[0])
    expect(wxState.navigations).toEqual([['navigateTo', '/pages/orders/detail?id=45']])
    orders = []
    await page.instance.onPullDownRefresh()
    expect(exists(page, '#empty')).toBe(true)
    await tap(page, '#go-repair')
    expect(wxState.navigations[1]).toEqual(['navigateTo', '/pages/repairs/new'])
  })
})

describe('order detail', () => {
  let current

  beforeEach(() => {
    current = order(7, { status: 'submitted' })
    fake.on('GET', '/api/v1/work-orders/:id', () => current)
  })

  async function open(o) {
    if (o) current = o
    const page = loadPage('pages/orders/detail')
    page.instance.onLoad({ id: '7' })
    await flush()
    return page
  }

  const buttons = (page) => ['#cancel', '#urge', '#rework', '#confirm', '#rating'].filter((s) => exists(page, s))

  test.each([
    ['submitted', ['#cancel', '#urge']],
    ['dispatched', ['#cancel', '#urge']],
    ['accepted', ['#cancel', '#urge']],
    ['on_site', ['#urge']],
    ['paused', ['#urge']],
    ['completed', ['#rework', '#confirm']],
    ['confirmed', ['#rating']],
    ['closed', []],
    ['cancelled', []],
  ])('%s shows only %j', async (status, expected) => {
    const page = await open(order(7, { status }))
    expect(text(page, '#status')).toBe(require('./helpers/orders').STATUS_LABELS[status])
    expect(buttons(page)).toEqual(expected)
  })

  test('shows the house, the assignee with tap-to-call, amounts, deadlines and the timeline', async () => {
    const page = await open(order(7, {
      kind: 'service',
      status: 'accepted',
      appointment_at: '2030-01-02T09:30:00+08:00',
      assignee: { id: 5, name: '王师傅', phone: '13900000005' },
      quote_fen: 5000,
      deadlines: { confirm_due_at: null, complete_due_at: '2099-01-01T18:00:00+08:00', callback_due_at: null },
      timeline: [
        { id: 1, at: '2026-11-23T10:05:00+08:00', actor: 'owner', actor_name: null, action: 'created', action_label: '提交', note: '小程序受理' },
        { id: 2, at: '2026-11-23T10:06:00+08:00', actor: 'system', actor_name: null, action: 'dispatch', action_label: '派单', note: '' },
        { id: 3, at: '2026-11-23T10:08:00+08:00', actor: 'staff', actor_name: '王师傅', action: 'accept', action_label: '接单', note: '' },
      ],
    }))
    expect(text(page, '#details')).toContain('1栋1单元101')
    expect(text(page, '#appointment')).toContain('2030-01-02 09:30')
    expect(text(page, '#assignee')).toContain('王师傅')
    await tap(page, '#call')
    expect(wxState.phoneCalls).toEqual(['13900000005'])
    expect(text(page, '#quote')).toContain('50.00 元')
    expect(text(page, '#deadlines')).toBe('承诺 2099-01-01 18:00 前完工')
    const events = all(page, '.event').map((n) => n.dom.textContent.replace(/\s+/g, ' ').trim())
    expect(events[0]).toContain('接单')
    expect(events[0]).toContain('王师傅')
    expect(events[2]).toContain('提交')
    expect(events[2]).toContain('业主：小程序受理')
  })

  test('photos are downloaded with the Authorization header into temp files', async () => {
    const page = await open(order(7, { photos: [31, 32], completion_photos: [40], completion_notes: '已更换角阀', status: 'completed' }))
    await flush(10)
    expect(wxState.downloads.slice().sort()).toEqual(['/api/v1/uploads/31', '/api/v1/uploads/32', '/api/v1/uploads/40'])
    expect(global.wx.downloadFile.mock.calls[0][0].header).toEqual({ Authorization: 'Bearer tok-1' })
    expect(page.instance.data.photos.map((p) => p.path)).toEqual(['wxfile://tmp/dl-31', 'wxfile://tmp/dl-32'])
    expect(text(page, '#completion')).toContain('已更换角阀')
    await tap(page, all(page, '.order-photo')[1])
    expect(wxState.previews[0]).toEqual({ urls: ['wxfile://tmp/dl-31', 'wxfile://tmp/dl-32'], current: 'wxfile://tmp/dl-32' })
  })

  test('a photo that cannot be read says so', async () => {
    fake.on('GET', '/api/v1/uploads/:id', () => envelope(404, 'not_found', '图片不存在'))
    const page = await open(order(7, { completion_photos: [40], completion_notes: '完工', status: 'completed' }))
    await flush(10)
    expect(text(page, '#completion')).toContain('暂不能查看')
  })

  test('confirm with a final amount above the quote shows both and sends accept_final_fen', async () => {
    fake.on('POST', '/api/v1/work-orders/:id/confirm', (req) => {
      current = Object.assign({}, current, { status: 'confirmed', amount_needs_confirmation: false })
      return current
    })
    const page = await open(order(7, {
      kind: 'service', status: 'completed', quote_fen: 5000, final_fen: 6250, materials_fen: 1250, amount_needs_confirmation: true,
      materials: [{ name: '角阀', unit: '个', unit_price_fen: 1250, quantity: '1.00', amount_fen: 1250 }],
    }))
    expect(text(page, '#amount-notice')).toBe('最终费用 62.50 元 高于报价 50.00 元，确认完工时需要您确认费用。')
    expect(text(page, '#money')).toContain('角阀 1个 × 12.50 元 = 12.50 元')
    expect(text(page, '#final')).toBe('62.50 元')
    await tap(page, '#confirm')
    await flush()
    expect(wxState.modals[0].title).toBe('确认费用')
    expect(wxState.modals[0].content).toBe('报价 50.00 元，最终费用 62.50 元（含材料费 12.50 元）。确认费用并确认完工？')
    expect(fake.callsTo('POST', '/api/v1/work-orders/7/confirm').map((c) => c.body)).toEqual([{ accept_final_fen: 6250 }])
    expect(buttons(page)).toEqual(['#rating'])
    expect(wxState.toasts).toContain('已确认完工')
  })

  test('confirm without a price change sends no amount; declining the modal sends nothing', async () => {
    fake.on('POST', '/api/v1/work-orders/:id/confirm', () => Object.assign({}, current, { status: 'confirmed' }))
    const page = await open(order(7, { status: 'completed' }))
    wxState.modalAnswers.push(false)
    await tap(page, '#confirm')
    expect(fake.callsTo('POST', '/api/v1/work-orders/7/confirm')).toHaveLength(0)
    await tap(page, '#confirm')
    await flush()
    expect(wxState.modals[1].title).toBe('确认完工')
    expect(fake.callsTo('POST', '/api/v1/work-orders/7/confirm').map((c) => c.body)).toEqual([{}])
  })

  test('409: the message is shown and the order reloaded', async () => {
    fake.on('POST', '/api/v1/work-orders/:id/cancel', () => {
      current = order(7, { status: 'on_site' }) // the worker arrived meanwhile
      return envelope(409, 'illegal_transition', '工单处理中，不能取消')
    })
    const page = await open()
    await tap(page, '#cancel')
    await input(page, '#reason', '不需要了')
    await tap(page, '#dialog-confirm')
    await flush()
    expect(fake.callsTo('POST', '/api/v1/work-orders/7/cancel').map((c) => c.body)).toEqual([{ reason: '不需要了' }])
    expect(text(page, '#notice')).toBe('工单处理中，不能取消')
    expect(fake.callsTo('GET', '/api/v1/work-orders/7')).toHaveLength(2)
    expect(text(page, '#status')).toBe('处理中')
    expect(exists(page, '#dialog')).toBe(false)
    expect(buttons(page)).toEqual(['#urge'])
  })

  test('cancel: the reason is optional', async () => {
    fake.on('POST', '/api/v1/work-orders/:id/cancel', (req) => order(7, { status: 'cancelled', cancel_reason: req.body.reason || '业主取消' }))
    const page = await open()
    await tap(page, '#cancel')
    await tap(page, '#dialog-confirm')
    await flush()
    expect(fake.callsTo('POST', '/api/v1/work-orders/7/cancel').map((c) => c.body)).toEqual([{ reason: '' }])
    expect(text(page, '#status')).toBe('已取消')
    expect(text(page, '#cancel-reason')).toBe('取消原因：业主取消')
    expect(buttons(page)).toEqual([])
  })

  test('urge; too often -> 操作太频繁', async () => {
    let n = 0
    fake.on('POST', '/api/v1/work-orders/:id/urge', () => {
      n += 1
      return n === 1 ? current : envelope(429, 'rate_limited', '操作太频繁，请稍后再试')
    })
    const page = await open()
    await tap(page, '#urge')
    expect(wxState.toasts).toContain('已催单，服务中心会尽快处理')
    await tap(page, '#urge')
    expect(wxState.toasts[1]).toMatch(/^操作太频繁/)
    expect(page.instance.data.busy).toBe('')
  })

  test('rework needs a reason; a failure keeps it', async () => {
    let fail = true
    fake.on('POST', '/api/v1/work-orders/:id/reject-completion', () => (fail
      ? envelope(503, 'unavailable', '服务暂时不可用，请稍后再试')
      : order(7, { status: 'submitted', rework_count: 1 })))
    const page = await open(order(7, { status: 'completed' }))
    await tap(page, '#rework')
    await tap(page, '#dialog-confirm')
    expect(text(page, '#dialog-error')).toBe('请填写不满意的原因')
    expect(fake.callsTo('POST', '/api/v1/work-orders/7/reject-completion')).toHaveLength(0)
    await input(page, '#reason', '还在漏水')
    await tap(page, '#dialog-confirm')
    expect(text(page, '#dialog-error')).toBe('服务暂时不可用，请稍后再试')
    expect(page.instance.data.reason).toBe('还在漏水')
    fail = false
    await tap(page, '#dialog-confirm')
    expect(fake.callsTo('POST', '/api/v1/work-orders/7/reject-completion').map((c) => c.body)).toEqual([{ reason: '还在漏水' }, { reason: '还在漏水' }])
    expect(exists(page, '#dialog')).toBe(false)
    expect(text(page, '#rework-count')).toBe('已返工 1 次')
  })

  test('rating: 2 stars or fewer shows the free-rework notice, and is sent with the comment', async () => {
    fake.on('POST', '/api/v1/work-orders/:id/rating', (req) => order(7, { status: 'submitted', rework_count: 1, rating: req.body.score }))
    const page = await open(order(7, { status: 'confirmed' }))
    expect(text(page, '#rating')).toContain('2 星及以下视为不满意：将为您免费返工，服务中心会电话回访')
    await tap(page, '#rate-submit')
    expect(text(page, '#rating-error')).toBe('请选择星级')
    const stars = all(page, '.star')
    await tap(page, stars[3])
    expect(exists(page, '#low-rating-notice')).toBe(false)
    await tap(page, stars[1])
    expect(text(page, '#low-rating-notice')).toContain('您选择了 2 星：提交后将免费返工')
    await input(page, '#comment', '没修好')
    await tap(page, '#rate-submit')
    expect(fake.callsTo('POST', '/api/v1/work-orders/7/rating').map((c) => c.body)).toEqual([{ score: 2, comment: '没修好' }])
    expect(wxState.toasts).toContain('已为您安排免费返工')
    expect(text(page, '#status')).toBe('待派单')
  })

  test('a good rating closes the order', async () => {
    fake.on('POST', '/api/v1/work-orders/:id/rating', (req) => order(7, { status: 'closed', rating: req.body.score, rating_comment: req.body.comment }))
    const page = await open(order(7, { status: 'confirmed' }))
    await tap(page, all(page, '.star')[4])
    await tap(page, '#rate-submit')
    expect(fake.callsTo('POST', '/api/v1/work-orders/7/rating')[0].body).toEqual({ score: 5, comment: '' })
    expect(wxState.toasts).toContain('感谢您的评价')
    expect(text(page, '#rated')).toContain('5 星')
  })

  test('an order that is not mine shows the message', async () => {
    fake.on('GET', '/api/v1/work-orders/:id', () => envelope(404, 'not_found', '未找到该工单'))
    const page = await open()
    expect(text(page, '#error')).toContain('未找到该工单')
  })
})
