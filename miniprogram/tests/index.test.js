const { setup, flush, loadPage, text, exists, all, tap, membership, api } = require('./helpers/env')

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
    expect(fake.requests()).toEqual([]) // the login payload was enough
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

  test('service entries are placeholders', async () => {
    const page = loadPage('pages/index/index')
    page.instance.onLoad({})
    page.instance.onShow()
    await flush()
    const services = all(page, '.service')
    expect(services.map((s) => s.dom.textContent.replace(/\s+/g, ''))).toEqual(['报修即将上线', '缴费即将上线', '投诉即将上线'])
    await tap(page, services[0])
    expect(wxState.toasts).toEqual(['报修即将上线'])
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
    expect(fake.requests()).toEqual(['GET /api/v1/me'])
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
