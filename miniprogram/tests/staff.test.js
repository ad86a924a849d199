const { setup, flush, loadPage, text, exists, all, tap, input, membership, envelope } = require('./helpers/env')

let fake
let wxState
let pending
let me

function binding(id, overrides) {
  return Object.assign(membership(id, { status: 'pending', name: '申请人' + id }), {
    phone: '1380000' + String(1000 + id),
    phone_verified: id % 2 === 0,
    reviewed_by: null,
  }, overrides || {})
}

beforeEach(() => {
  ;({ fake, wx: wxState } = setup())
  pending = [5, 4, 3, 2, 1].map((id) => binding(id))
  me = {
    id: 7, name: '刘芳', phone: '13900000001', community: { code: 'demo', name: '示例小区' },
    department: 'service_center', department_label: '服务中心', role: 'receptionist', role_label: '接待员',
    skills: [], on_duty: true, active: true, mp_bound: true, oa_bound: true,
  }
  fake.on('GET', '/api/v1/staff/me', () => me)
  fake.on('PATCH', '/api/v1/staff/members/:id', (req) => {
    me = Object.assign({}, me, req.body)
    return me
  })
  fake.on('GET', '/api/v1/staff/bindings', (req) => {
    const page = Number(req.query.page)
    const per = Number(req.query.per_page)
    const items = pending.filter((b) => b.status === req.query.status)
    return { items: items.slice((page - 1) * per, page * per), total: items.length, page, per_page: per }
  })
  fake.on('POST', '/api/v1/staff/bindings/:id/approve', (req) => {
    const b = pending.find((x) => x.id === Number(req.params.id))
    b.status = 'approved'
    return b
  })
  fake.on('POST', '/api/v1/staff/bindings/:id/reject', (req) => {
    const b = pending.find((x) => x.id === Number(req.params.id))
    b.status = 'rejected'
    b.reject_reason = req.body.reason
    return b
  })
})

async function open(query) {
  const page = loadPage('pages/staff/bindings/index')
  page.instance.onLoad(query || {})
  await flush()
  return page
}

const ids = (page) => all(page, '.binding').map((c) => Number(c.dom.getAttribute('data-id')))

test('loads my staff record and the pending bindings', async () => {
  const page = await open()
  expect(fake.requests().sort()).toEqual(['GET /api/v1/staff/bindings?status=pending&page=1&per_page=20', 'GET /api/v1/staff/me'])
  expect(text(page, '#duty')).toContain('刘芳 · 接待员')
  expect(ids(page)).toEqual([5, 4, 3, 2, 1])
  expect(text(page, '#total')).toBe('共 5 条')
  const first = all(page, '.binding')[0].dom.textContent
  expect(first).toContain('申请人5（业主）')
  expect(first).toContain('13800001005')
  expect(first).toContain('手机号未验证')
  expect(first).toContain('申请时间：2026-11-23 10:05')
  expect(exists(page, '#load-more')).toBe(false)
  expect(exists(page, '#no-more')).toBe(true)
})

test('approve (after confirming) removes the item', async () => {
  const page = await open()
  await tap(page, all(page, '.approve-btn')[1])
  expect(wxState.modals[0].content).toContain('申请人4')
  expect(fake.callsTo('POST', '/api/v1/staff/bindings/4/approve')).toHaveLength(1)
  expect(ids(page)).toEqual([5, 3, 2, 1])
  expect(text(page, '#total')).toBe('共 4 条')
  expect(wxState.toasts).toContain('已通过')
})

test('approve of a binding someone else already reviewed drops it and says why', async () => {
  fake.on('POST', '/api/v1/staff/bindings/:id/approve', () => envelope(409, 'not_pending', '该申请已通过，不能再审核'))
  const page = await open()
  await tap(page, all(page, '.approve-btn')[0])
  expect(ids(page)).toEqual([4, 3, 2, 1])
  expect(wxState.toasts).toContain('该申请已通过，不能再审核')
})

test('reject requires a reason', async () => {
  const page = await open()
  await tap(page, all(page, '.reject-btn')[0])
  expect(exists(page, '#reject-dialog')).toBe(true)
  expect(text(page, '#reject-dialog')).toContain('申请人5')
  await tap(page, '#reject-confirm')
  expect(text(page, '#reject-error')).toBe('请填写驳回原因，业主会在通知中看到')
  await input(page, '#reason', '   ')
  await tap(page, '#reject-confirm')
  expect(fake.calls.filter((c) => /reject/.test(c.path))).toHaveLength(0)

  await input(page, '#reason', '房号与名册不符')
  expect(exists(page, '#reject-error')).toBe(false)
  await tap(page, '#reject-confirm')
  expect(fake.callsTo('POST', '/api/v1/staff/bindings/5/reject').map((c) => c.body)).toEqual([{ reason: '房号与名册不符' }])
  expect(exists(page, '#reject-dialog')).toBe(false)
  expect(ids(page)).toEqual([4, 3, 2, 1])
})

test('a failed reject keeps the dialog and the reason', async () => {
  fake.on('POST', '/api/v1/staff/bindings/:id/reject', () => envelope(422, 'validation_error', '提交的内容有误，请检查后重试', { reason: ['长度不能超过 200'] }))
  const page = await open()
  await tap(page, all(page, '.reject-btn')[0])
  await input(page, '#reason', '太长的原因')
  await tap(page, '#reject-confirm')
  expect(text(page, '#reject-error')).toBe('长度不能超过 200')
  expect(page.instance.data.reason).toBe('太长的原因')
  expect(ids(page)).toHaveLength(5)
  // cancelling and reopening the same binding keeps the reason too
  await tap(page, '#reject-cancel')
  expect(exists(page, '#reject-dialog')).toBe(false)
  await tap(page, all(page, '.reject-btn')[0])
  expect(page.instance.data.reason).toBe('太长的原因')
})

test('加载更多 loads the next page without duplicates', async () => {
  pending = []
  for (let id = 45; id >= 1; id--) pending.push(binding(id))
  const page = await open()
  expect(ids(page)).toHaveLength(20)
  expect(exists(page, '#load-more')).toBe(true)
  // review one from the first page: the server's page 2 now starts one item later
  await tap(page, all(page, '.approve-btn')[0])
  expect(ids(page)).toHaveLength(19)
  await tap(page, '#load-more')
  expect(fake.requests()).toContain('GET /api/v1/staff/bindings?status=pending&page=1&per_page=20')
  const list = ids(page)
  expect(new Set(list).size).toBe(list.length)
  await tap(page, '#load-more')
  await tap(page, '#load-more')
  const all44 = ids(page)
  expect(all44).toHaveLength(44)
  expect(new Set(all44).size).toBe(44)
  expect(all44[0]).toBe(44)
  expect(all44[43]).toBe(1)
  expect(exists(page, '#load-more')).toBe(false)
  expect(exists(page, '#no-more')).toBe(true)
})

test('pull-down refresh reloads and stops the indicator', async () => {
  const page = await open()
  pending.unshift(binding(6))
  await page.instance.onPullDownRefresh()
  await flush()
  expect(ids(page)[0]).toBe(6)
  expect(wxState.stopPullDown).toBe(1)
})

test('highlights the binding opened from the staff message (?id=)', async () => {
  const page = await open({ id: '3' })
  const highlighted = all(page, '.highlight')
  expect(highlighted).toHaveLength(1)
  expect(highlighted[0].dom.getAttribute('data-id')).toBe('3')
  expect(wxState.scrolls).toEqual(['#b-3'])
})

test('a binding that is no longer pending gets a notice', async () => {
  const page = await open({ id: '99' })
  expect(text(page, '#notice')).toBe('该申请已处理，不在待审核列表中')
})

test('the on-duty switch saves, and reverts on failure', async () => {
  const page = await open()
  page.querySelector('#on-duty').dispatchEvent('change', { detail: { value: false } })
  await flush()
  expect(fake.callsTo('PATCH', '/api/v1/staff/members/7').map((c) => c.body)).toEqual([{ on_duty: false }])
  expect(page.instance.data.staff.on_duty).toBe(false)
  expect(text(page, '#duty')).toContain('离岗')

  fake.on('PATCH', '/api/v1/staff/members/:id', () => envelope(403, 'role_forbidden', '没有权限修改该员工'))
  page.querySelector('#on-duty').dispatchEvent('change', { detail: { value: true } })
  await flush()
  expect(page.instance.data.staff.on_duty).toBe(false)
  expect(wxState.toasts).toContain('没有权限修改该员工')
})

test('staff who may not review see the reason, and keep the on-duty switch', async () => {
  fake.on('GET', '/api/v1/staff/bindings', () => envelope(403, 'role_forbidden', '您的岗位不能进行此操作'))
  const page = await open()
  expect(text(page, '#error')).toContain('您的岗位不能进行此操作')
  expect(exists(page, '#on-duty')).toBe(true)
})
