const { setup, flush, loadPage, text, exists, all, tap, input, membership, envelope } = require('./helpers/env')

let fake
let wxState
let state

beforeEach(() => {
  ;({ fake, wx: wxState } = setup())
  state = {
    members: [
      Object.assign(membership(1), { phone: '138****0001' }),
      Object.assign(membership(5, { role: 'family', name: '张小三' }), { phone: '138****0005' }),
    ],
    invited: [{ id: 11, name: '李租客', phone: '139****0002', role: 'tenant', role_label: '租户' }],
  }
  fake.on('GET', '/api/v1/me/houses/:id/members', () => state)
  fake.on('POST', '/api/v1/me/houses/:id/members', (req) => {
    const entry = { id: 12, name: req.body.name, phone: '137****0000', role: req.body.role, role_label: req.body.role === 'tenant' ? '租户' : '家庭成员' }
    state.invited = state.invited.concat([entry])
    return { status: 201, body: entry }
  })
  fake.on('DELETE', '/api/v1/me/houses/:id/members/:mid', () => undefined)
  fake.on('DELETE', '/api/v1/me/houses/:id/invitations/:eid', () => undefined)
})

async function open() {
  const page = loadPage('pages/houses/members')
  page.instance.onLoad({ id: '1', label: encodeURIComponent('1栋1单元101') })
  await flush()
  return page
}

test('lists members and registrations; the owner cannot be removed here', async () => {
  const page = await open()
  expect(fake.requests()).toEqual(['GET /api/v1/me/houses/1/members'])
  expect(global.wx.setNavigationBarTitle).toHaveBeenCalledWith({ title: '1栋1单元101' })
  const members = all(page, '.member')
  expect(members).toHaveLength(2)
  expect(members[0].dom.textContent).toContain('138****0001')
  expect(members[0].dom.textContent).not.toContain('移除')
  expect(members[1].dom.textContent).toContain('移除')
  expect(all(page, '.remove-member')).toHaveLength(1)
  expect(all(page, '.invitation')[0].dom.textContent).toContain('李租客')
})

test('registers a family member or tenant and reloads', async () => {
  const page = await open()
  page.querySelector('#role').dispatchEvent('change', { detail: { value: 1 } })
  await input(page, '#name', ' 王五 ')
  await input(page, '#phone', '13700000000')
  await tap(page, '#add')
  expect(fake.callsTo('POST', '/api/v1/me/houses/1/members')[0].body).toEqual({ name: '王五', phone: '13700000000', role: 'tenant' })
  expect(fake.callsTo('GET', '/api/v1/me/houses/1/members')).toHaveLength(2)
  expect(all(page, '.invitation')).toHaveLength(2)
  expect(page.instance.data.form).toEqual({ name: '', phone: '', role: 'family' })
})

test('form errors: checked locally, then from the server', async () => {
  const page = await open()
  await tap(page, '#add')
  expect(text(page, '#error-name')).toBe('请填写姓名')
  expect(fake.callsTo('POST', '/api/v1/me/houses/1/members')).toHaveLength(0)

  fake.on('POST', '/api/v1/me/houses/:id/members', () => envelope(409, 'already_registered', '该手机号已在业主名册中'))
  await input(page, '#name', '王五')
  await input(page, '#phone', '13800000001')
  await tap(page, '#add')
  expect(text(page, '#form-error')).toBe('该手机号已在业主名册中')
  expect(page.instance.data.form.phone).toBe('13800000001')
})

test('removes a member and revokes a registration after confirming', async () => {
  const page = await open()
  await tap(page, '.remove-member')
  expect(fake.callsTo('DELETE', '/api/v1/me/houses/1/members/5')).toHaveLength(1)
  expect(all(page, '.member')).toHaveLength(1)
  await tap(page, '.remove-invitation')
  expect(fake.callsTo('DELETE', '/api/v1/me/houses/1/invitations/11')).toHaveLength(1)
  expect(all(page, '.invitation')).toHaveLength(0)
  expect(wxState.modals.map((m) => m.title)).toEqual(['移除成员', '撤销登记'])
})

test('not an approved owner: the server message is shown', async () => {
  fake.on('GET', '/api/v1/me/houses/:id/members', () => envelope(403, 'not_house_owner', '只有已认证的业主可以管理家庭成员和租户'))
  const page = await open()
  expect(text(page, '#error')).toContain('只有已认证的业主可以管理家庭成员和租户')
})
