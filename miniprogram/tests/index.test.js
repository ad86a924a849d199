const { setup, flush, loadPage, text, exists, all, tap, membership, api, envelope } = require('./helpers/env')

let fake
let wxState

beforeEach(() => {
  ;({ fake, wx: wxState } = setup())
})

test('app.js logs in on launch', async () => {
  let app = null
  global.App = (options) => {
    app = options
  }
  require('../app')
  app.onLaunch()
  await flush()
  expect(fake.loginCount).toBe(1)
  expect(api.getSession()).not.toBeNull()
  delete global.App
})

describe('home', () => {
  test('shows my houses from the launch login, with statuses and reasons', async () => {
    fake.session.houses = [
      membership(1),
      membership(2, { status: 'pending', role: 'tenant' }),
      membership(3, { status: 'rejected', reject_reason: '姓名与登记不符' }),
    ]
    const page = loadPage('pages/index/index')
    expect(exists(page, '#loading')).toBe(true)
    page.instance.onLoad({})
    page.instance.onShow()
    await flush()
    // The login payload was enough for the houses; only the unread notices are asked for (approved house).
    expect(fake.requests()).toEqual(['GET /api/v1/notices?page=1&per_page=1'])
    const houses = all(page, '.house')
    expect(houses).toHaveLength(3)
    const first = houses[0].dom.textContent
    expect(first).toContain('1栋1单元101')
    expect(first).toContain('示例小区')
    expect(first).toContain('业主')
    expect(first).toContain('已通过')
    expect(houses[1].dom.textContent).toContain('待审核：不在业主名册中')
    expect(houses[1].dom.textContent).toContain('租户')
    expect(houses[2].dom.textContent).toContain('未通过原因：姓名与登记不符')
    expect(exists(page, '#empty')).toBe(false)
    expect(exists(page, '#staff-entry')).toBe(false)
  })

  test('empty state offers 绑定房屋', async () => {
    const page = loadPage('pages/index/index')
    page.instance.onLoad({})
    page.instance.onShow()
    await flush()
    expect(text(page, '#empty')).toContain('还没有绑定房屋')
    await tap(page, '#bind')
    expect(wxState.navigations).toEqual([['navigateTo', '/pages/houses/bind']])
  })

  test('staff see the 员工工作台 entry', async () => {
    fake.session.staff = { id: 7, name: '刘芳', role: 'receptionist', role_label: '接待员' }
    const page = loadPage('pages/index/index')
    page.instance.onLoad({})
    page.instance.onShow()
    await flush()
    expect(text(page, '#staff-entry')).toContain('员工工作台')
    expect(text(page, '#staff-entry')).toContain('刘芳 · 接待员')
    await tap(page, '#staff-entry')
    expect(wxState.navigations).toEqual([['navigateTo', '/pages/staff/bindings/index']])
  })

  test('service entries open their pages: 报修, 有偿服务, 我的工单, 缴费, 投诉, 通知', async () => {
    const page = loadPage('pages/index/index')
    page.instance.onLoad({})
    page.instance.onShow()
    await flush()
    const services = all(page, '.service')
    expect(services.map((s) => s.dom.textContent.replace(/\s+/g, ''))).toEqual([
      '报修室内维修', '有偿服务便民服务', '我的工单查看进度', '缴费物业费、水电费', '投诉意见与投诉', '通知小区公告',
    ])
    for (const key of ['repair', 'service', 'orders', 'billing', 'complaint', 'notices']) {
      await tap(page, '#service-' + key)
    }
    expect(wxState.navigations).toEqual([
      ['navigateTo', '/pages/repairs/new'],
      ['navigateTo', '/pages/services/index'],
      ['navigateTo', '/pages/orders/index'],
      ['navigateTo', '/pages/bills/index'],
      ['navigateTo', '/pages/complaints/new'],
      ['navigateTo', '/pages/notices/index'],
    ])
    expect(wxState.toasts).toEqual([])
    expect(all(page, '.service-off')).toHaveLength(0)
    expect(exists(page, '#unread-badge')).toBe(false) // no approved house: no notices asked for
    expect(fake.requests()).toEqual([])
    expect(exists(page, '#tasks-entry')).toBe(false)
  })

  test('通知 shows the unread badge, refreshed on every show; a failure leaves it alone', async () => {
    fake.session.houses = [membership(1)]
    let unread = 3
    fake.on('GET', '/api/v1/notices', () => ({ items: [], total: 5, page: 1, per_page: 1, unread_count: unread }))
    fake.on('GET', '/api/v1/me', () => ({ user: { id: 1 }, houses: [membership(1)], staff: null }))
    const page = loadPage('pages/index/index')
    page.instance.onLoad({})
    page.instance.onShow()
    await flush()
    expect(text(page, '#unread-badge')).toBe('3')
    unread = 0
    page.instance.onShow()
    await flush()
    expect(exists(page, '#unread-badge')).toBe(false)
    unread = 120
    page.instance.onShow()
    await flush()
    expect(text(page, '#unread-badge')).toBe('99+')
    fake.on('GET', '/api/v1/notices', () => envelope(503, 'unavailable', '服务暂时不可用'))
    page.instance.onShow()
    await flush()
    expect(text(page, '#unread-badge')).toBe('99+')
    expect(wxState.toasts).toEqual([])
  })

  test('staff also get 我的任务', async () => {
    fake.session.staff = { id: 5, name: '王师傅', role: 'worker', role_label: '员工' }
    const page = loadPage('pages/index/index')
    page.instance.onLoad({})
    page.instance.onShow()
    await flush()
    expect(text(page, '#tasks-entry')).toContain('我的任务')
    await tap(page, '#tasks-entry')
    expect(wxState.navigations).toEqual([['navigateTo', '/pages/staff/tasks/index']])
  })

  test('later shows refresh with GET /me', async () => {
    fake.on('GET', '/api/v1/me', () => ({ user: { id: 1 }, houses: [membership(4)], staff: null }))
    const page = loadPage('pages/index/index')
    page.instance.onLoad({})
    page.instance.onShow()
    await flush()
    expect(all(page, '.house')).toHaveLength(0)
    page.instance.onShow()
    await flush()
    expect(fake.requests()).toEqual(['GET /api/v1/me', 'GET /api/v1/notices?page=1&per_page=1'])
    expect(all(page, '.house')).toHaveLength(1)
  })

  test('a failed login shows the message and a retry', async () => {
    fake.offline = true
    const page = loadPage('pages/index/index')
    page.instance.onLoad({})
    page.instance.onShow()
    await flush()
    expect(text(page, '#error')).toContain('网络不给力，请稍后重试')
    fake.offline = false
    await tap(page, '#retry')
    expect(exists(page, '#error')).toBe(false)
    expect(exists(page, '#empty')).toBe(true)
  })
})
