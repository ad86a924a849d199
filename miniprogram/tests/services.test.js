const { setup, flush, loadPage, text, exists, all, tap, input, fire, house, membership, envelope } = require('./helpers/env')
const { order, catalog, SUBS } = require('./helpers/orders')

let fake
let wxState
let credits

beforeEach(() => {
  ;({ fake, wx: wxState } = setup())
  credits = 0
  fake.on('GET', '/api/v1/me/houses', () => [
    membership(1),
    membership(2, { status: 'pending' }),
    membership(3, { house: house(3, { community: { code: 'other', name: '别的小区' }, label: '9栋1单元901' }) }),
  ])
  fake.on('GET', '/api/v1/catalog', () => catalog())
  fake.on('GET', '/api/v1/me/subscriptions', () => SUBS(credits))
  fake.on('POST', '/api/v1/me/subscriptions', () => SUBS(1))
  fake.on('POST', '/api/v1/work-orders', (req) => ({ status: 201, body: order(9, { kind: 'service', quantity: req.body.quantity }) }))
})

describe('catalog', () => {
  async function open(query) {
    const page = loadPage('pages/services/index')
    page.instance.onLoad(query || {})
    await flush()
    return page
  }

  test('groups items by category with the price per unit, and says what is out of scope', async () => {
    const page = await open()
    expect(fake.requests()).toEqual(['GET /api/v1/me/houses', 'GET /api/v1/catalog?community=demo'])
    expect(all(page, '.group-name').map((g) => g.dom.textContent.trim())).toEqual(['管道疏通', '水电维修', '保洁'])
    const groups = all(page, '.group')
    expect(groups[0].dom.textContent).toContain('疏通下水道')
    expect(groups[0].dom.textContent).toContain('疏通马桶')
    expect(groups[0].dom.textContent).not.toContain('更换水龙头')
    const items = all(page, '.item')
    expect(items.map((i) => i.dom.getAttribute('data-id'))).toEqual(['3', '5', '4', '6'])
    expect(items[0].dom.textContent).toContain('50.00 元/次')
    expect(items[3].dom.textContent).toContain('35.50 元/小时')
    expect(text(page, '#out-of-scope')).toBe('家用电器维修、房屋装修不在服务范围内，敬请谅解。')
  })

  test('tapping an item opens booking for the selected house', async () => {
    const page = await open()
    await tap(page, all(page, '.item')[1])
    expect(wxState.navigations).toEqual([['navigateTo', '/pages/services/book?item_id=5&house_id=1']])
  })

  test('picking a house of another community loads that catalog', async () => {
    const page = await open()
    await fire(page, '#house', 'change', { value: 1 })
    await flush()
    expect(fake.requests()).toContain('GET /api/v1/catalog?community=other')
  })

  test('without an approved house: prices of the default community, and a way to bind', async () => {
    fake.on('GET', '/api/v1/me/houses', () => [membership(2, { status: 'pending' })])
    const page = await open()
    expect(fake.requests()).toContain('GET /api/v1/catalog?community=demo')
    expect(text(page, '#no-house')).toContain('绑定房屋并通过审核后即可预约服务')
    await tap(page, all(page, '.item')[0])
    expect(wxState.navigations).toEqual([])
    expect(wxState.toasts).toContain('请先绑定房屋，审核通过后即可预约')
  })

  test('a failed load shows the message and a retry', async () => {
    fake.on('GET', '/api/v1/catalog', () => envelope(404, 'not_found', '未找到该小区'))
    const page = await open()
    expect(text(page, '#error')).toContain('未找到该小区')
    fake.on('GET', '/api/v1/catalog', () => catalog())
    await tap(page, '#retry')
    expect(all(page, '.item')).toHaveLength(4)
  })
})

describe('booking', () => {
  async function open(query) {
    const page = loadPage('pages/services/book')
    page.instance.onLoad(query || { item_id: '3', house_id: '1' })
    await flush()
    return page
  }

  const orderCalls = () => fake.callsTo('POST', '/api/v1/work-orders')

  test('shows the item, only approved houses of its community, and a local estimate', async () => {
    const page = await open()
    expect(text(page, '#item')).toContain('疏通下水道')
    expect(page.instance.data.houses.map((h) => h.id)).toEqual([1]) // not the pending one, not the other community
    expect(text(page, '#estimate-amount')).toBe('50.00 元 × 1 = 50.00 元')
    expect(text(page, '#estimate')).toContain('最终报价以提交后服务中心系统计算为准')
  })

  test('sends kind/house/item/quantity/description/preferred time, and never a price', async () => {
    const page = await open()
    await tap(page, '#plus')
    await tap(page, '#plus')
    expect(text(page, '#estimate-amount')).toBe('50.00 元 × 3 = 150.00 元')
    await input(page, '#description', '  厨房下水慢  ')
    await fire(page, '#when-date', 'change', { value: '2030-01-02' })
    await fire(page, '#when-time', 'change', { value: '09:30' })

    // The tap handler raises the subscription prompt synchronously (WeChat requires it), before any request.
    const sent = fake.calls.length
    const done = page.instance.submit()
    expect(wxState.subscribeRequests).toEqual([['tpl-order-status']])
    expect(fake.calls.length).toBe(sent)
    await done
    await flush()

    expect(orderCalls()).toHaveLength(1)
    const body = orderCalls()[0].body
    expect(body).toEqual({
      kind: 'service',
      house_id: 1,
      service_item_id: 3,
      quantity: 3,
      description: '厨房下水慢',
      preferred_time: '2030-01-02T09:30:00+08:00',
    })
    expect(Object.keys(body).filter((k) => /fen|price|quote|amount/.test(k))).toEqual([])
    expect(fake.callsTo('POST', '/api/v1/me/subscriptions').map((c) => c.body)).toEqual([{ accepted: ['tpl-order-status'] }])
    expect(wxState.navigations).toEqual([['redirectTo', '/pages/orders/detail?id=9']])
  })

  test('no subscription prompt when order messages are still available', async () => {
    credits = 2
    const page = await open()
    await tap(page, '#submit')
    await flush()
    expect(wxState.subscribeRequests).toEqual([])
    expect(orderCalls()).toHaveLength(1)
    expect(orderCalls()[0].body.preferred_time).toBeNull()
  })

  test('a refused subscription still books', async () => {
    wxState.subscribeResult = (ids) => ({ [ids[0]]: 'reject' })
    const page = await open()
    await tap(page, '#submit')
    await flush()
    expect(wxState.subscribeRequests).toHaveLength(1)
    expect(fake.callsTo('POST', '/api/v1/me/subscriptions')).toHaveLength(0)
    expect(orderCalls()).toHaveLength(1)
  })

  test('quantity stays within 1-99', async () => {
    const page = await open()
    await tap(page, '#minus')
    expect(page.instance.data.quantity).toBe(1)
    await input(page, '#quantity', '99')
    await tap(page, '#plus')
    expect(page.instance.data.quantity).toBe(99)
    await input(page, '#quantity', '')
    expect(text(page, '#estimate-amount')).toBe('—')
    await fire(page, '#quantity', 'blur', { value: '' })
    expect(page.instance.data.quantity).toBe(1)
  })

  test('half a preferred time is caught before sending', async () => {
    const page = await open()
    await fire(page, '#when-date', 'change', { value: '2030-01-02' })
    await tap(page, '#submit')
    expect(orderCalls()).toHaveLength(0)
    expect(text(page, '#error-preferred_time')).toBe('请选择时间')
  })

  test('server errors are shown by field and keep what was typed', async () => {
    fake.on('POST', '/api/v1/work-orders', () => envelope(422, 'validation_error', '提交的内容有误，请检查后重试', { description: ['长度不能超过 1000'] }))
    const page = await open()
    await tap(page, '#plus')
    await input(page, '#description', '很长的说明')
    await tap(page, '#submit')
    await flush()
    expect(text(page, '#form-error')).toBe('提交的内容有误，请检查后重试')
    expect(text(page, '#error-description')).toBe('长度不能超过 1000')
    expect(page.instance.data.description).toBe('很长的说明')
    expect(page.instance.data.quantity).toBe(2)
    expect(page.instance.data.submitting).toBe(false)
    expect(wxState.navigations).toEqual([])
  })

  test('an item that is gone says so', async () => {
    const page = await open({ item_id: '99', house_id: '1' })
    expect(text(page, '#error')).toContain('该服务已下架或不在本小区服务范围内')
  })
})
