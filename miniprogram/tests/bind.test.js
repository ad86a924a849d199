const { setup, flush, loadPage, text, exists, tap, input, membership, envelope, api, config } = require('./helpers/env')

let fake
let wxState

const SUBS = [
  { key: 'binding_result', template_id: 'tpl-binding-result', title: '房屋绑定审核结果', credits: 0 },
  { key: 'repair_done', template_id: 'tpl-repair-done', title: '报修完成通知', credits: 0 },
]

beforeEach(() => {
  ;({ fake, wx: wxState } = setup())
  fake.on('GET', '/api/v1/me/subscriptions', () => SUBS)
  fake.on('POST', '/api/v1/me/subscriptions', (req) => SUBS.map((s) => Object.assign({}, s, { credits: req.body.accepted.indexOf(s.template_id) >= 0 ? 1 : 0 })))
})

async function openForm() {
  const page = loadPage('pages/houses/bind')
  page.instance.onLoad({})
  await flush(2)
  return page
}

async function fillForm(page) {
  await input(page, '#building', '1')
  await input(page, '#unit', '1')
  await input(page, '#room', '101')
  await input(page, '#name', '张三')
  await input(page, '#phone', '13800000001')
}

const bindCalls = () => fake.callsTo('POST', '/api/v1/me/houses')

test('defaults the community from config and prefills from the session', async () => {
  fake.session.user = { id: 1, name: '张三', phone: '13800000001', phone_verified: true }
  await api.ensureLogin()
  const page = await openForm()
  expect(page.instance.data.form.community_code).toBe(config.defaultCommunity)
  expect(page.instance.data.form.name).toBe('张三')
  expect(page.instance.data.form.phone).toBe('13800000001')
  expect(exists(page, '#phone-verified')).toBe(true)
})

test('checks required fields before sending', async () => {
  await api.ensureLogin()
  const page = await openForm()
  await tap(page, '#submit')
  expect(bindCalls()).toHaveLength(0)
  expect(text(page, '#error-building')).toBe('请填写楼栋')
  expect(text(page, '#error-phone')).toBe('请填写手机号')
  expect(exists(page, '#error-community_code')).toBe(false)
  await input(page, '#building', '1')
  expect(exists(page, '#error-building')).toBe(false) // typing clears the field's error
})

test('shows server field errors next to the inputs and keeps what was typed', async () => {
  fake.on('POST', '/api/v1/me/houses', () => envelope(422, 'validation_error', '未找到该房屋，请核对楼栋、单元和房号', { room: ['未找到该房屋'], name: ['长度不能超过 50'] }))
  const page = await openForm()
  await fillForm(page)
  await tap(page, '#submit')
  expect(bindCalls()).toHaveLength(1)
  expect(bindCalls()[0].body).toEqual({
    community_code: 'demo', building: '1', unit: '1', room: '101', name: '张三', phone: '13800000001', role: 'owner',
  })
  expect(text(page, '#form-error')).toBe('未找到该房屋，请核对楼栋、单元和房号')
  expect(text(page, '#error-room')).toBe('未找到该房屋')
  expect(text(page, '#error-name')).toBe('长度不能超过 50')
  expect(exists(page, '#error-building')).toBe(false)
  expect(page.instance.data.form).toMatchObject({ building: '1', unit: '1', room: '101', name: '张三', phone: '13800000001' })
  expect(exists(page, '#result')).toBe(false)
  // the draft survives leaving the page
  expect(wxState.storage.get('wuye_bind_draft')).toMatchObject({ room: '101', name: '张三' })
})

test('a conflict is shown as a message', async () => {
  fake.on('POST', '/api/v1/me/houses', () => envelope(409, 'already_pending', '已提交绑定申请，请等待物业审核'))
  const page = await openForm()
  await fillForm(page)
  await tap(page, '#submit')
  expect(text(page, '#form-error')).toBe('已提交绑定申请，请等待物业审核')
})

test('a network failure keeps the form and says so', async () => {
  await api.ensureLogin()
  const page = await openForm()
  await fillForm(page)
  fake.offline = true
  await tap(page, '#submit')
  expect(text(page, '#form-error')).toBe('网络不给力，请稍后重试')
  expect(page.instance.data.form.room).toBe('101')
  expect(page.instance.data.submitting).toBe(false)
  // a later page load restores the draft
  const again = await openForm()
  expect(again.instance.data.form).toMatchObject({ building: '1', room: '101', phone: '13800000001' })
})

test('the role picker sets the role', async () => {
  fake.on('POST', '/api/v1/me/houses', (req) => ({ status: 201, body: membership(8, { role: req.body.role }) }))
  const page = await openForm()
  await fillForm(page)
  page.querySelector('#role').dispatchEvent('change', { detail: { value: '2' } })
  await flush(2)
  expect(page.instance.data.form.role).toBe('tenant')
  await tap(page, '#submit')
  expect(bindCalls()[0].body.role).toBe('tenant')
})

test('approved: success without asking for a subscription', async () => {
  fake.on('POST', '/api/v1/me/houses', () => ({ status: 201, body: membership(8) }))
  const page = await openForm()
  await fillForm(page)
  await tap(page, '#submit')
  expect(text(page, '#result')).toContain('绑定成功')
  expect(wxState.toasts).toContain('绑定成功')
  expect(wxState.subscribeRequests).toHaveLength(0)
  expect(fake.callsTo('GET', '/api/v1/me/subscriptions')).toHaveLength(0)
  expect(wxState.storage.has('wuye_bind_draft')).toBe(false)
  await tap(page, '#go-houses')
  expect(wxState.navigations).toEqual([['redirectTo', '/pages/houses/index?id=8']])
})

test('pending: explains the review, asks for the 审核结果通知 and records accepted ids only', async () => {
  fake.on('POST', '/api/v1/me/houses', () => ({ status: 201, body: membership(8, { status: 'pending', pending_reason: '手机号未经微信验证' }) }))
  wxState.subscribeResult = (ids) => {
    const res = {}
    ids.forEach((id) => { res[id] = 'accept' })
    return res
  }
  const page = await openForm()
  await fillForm(page)
  await tap(page, '#submit')
  expect(text(page, '#pending-title')).toBe('已提交，等待物业审核')
  expect(text(page, '#pending-reason')).toContain('手机号未经微信验证')
  expect(wxState.modals).toHaveLength(1)
  expect(wxState.modals[0].title).toBe('接收审核结果通知')
  // only the binding-result template is asked for
  expect(wxState.subscribeRequests).toEqual([['tpl-binding-result']])
  expect(fake.callsTo('POST', '/api/v1/me/subscriptions').map((c) => c.body)).toEqual([{ accepted: ['tpl-binding-result'] }])
  expect(fake.requests()).toEqual(['POST /api/v1/me/houses', 'GET /api/v1/me/subscriptions', 'POST /api/v1/me/subscriptions'])
  expect(exists(page, '#subscribed')).toBe(true)
  expect(exists(page, '#subscribe')).toBe(false)
})

test('pending: a rejected subscription is not recorded, and the button lets the user try again', async () => {
  fake.on('POST', '/api/v1/me/houses', () => ({ status: 201, body: membership(8, { status: 'pending' }) }))
  wxState.subscribeResult = () => ({ 'tpl-binding-result': 'reject' })
  const page = await openForm()
  await fillForm(page)
  await tap(page, '#submit')
  expect(wxState.subscribeRequests).toHaveLength(1)
  expect(fake.callsTo('POST', '/api/v1/me/subscriptions')).toHaveLength(0)
  expect(exists(page, '#subscribe')).toBe(true)

  wxState.subscribeResult = () => ({ 'tpl-binding-result': 'accept' })
  await tap(page, '#subscribe')
  expect(wxState.subscribeRequests).toHaveLength(2)
  expect(fake.callsTo('POST', '/api/v1/me/subscriptions').map((c) => c.body)).toEqual([{ accepted: ['tpl-binding-result'] }])
  expect(exists(page, '#subscribed')).toBe(true)
})

test('pending: declining the modal asks nothing of WeChat', async () => {
  fake.on('POST', '/api/v1/me/houses', () => ({ status: 201, body: membership(8, { status: 'pending' }) }))
  wxState.modalAnswers = [false]
  const page = await openForm()
  await fillForm(page)
  await tap(page, '#submit')
  expect(wxState.modals).toHaveLength(1)
  expect(wxState.subscribeRequests).toHaveLength(0)
  expect(exists(page, '#subscribe')).toBe(true)
})

test('pending: no prompt when a result message is already subscribed', async () => {
  fake.on('GET', '/api/v1/me/subscriptions', () => [Object.assign({}, SUBS[0], { credits: 1 })])
  fake.on('POST', '/api/v1/me/houses', () => ({ status: 201, body: membership(8, { status: 'pending' }) }))
  const page = await openForm()
  await fillForm(page)
  await tap(page, '#submit')
  expect(wxState.modals).toHaveLength(0)
  expect(exists(page, '#subscribed')).toBe(true)
})

test('微信手机号快速验证 fills the verified phone', async () => {
  fake.on('POST', '/api/v1/me/phone', (req) => ({ id: 1, name: null, phone: '13912345678', phone_verified: true, code: req.body.code }))
  const page = await openForm()
  page.querySelector('#get-phone').dispatchEvent('getphonenumber', { detail: { code: 'phone-code-1', errMsg: 'getPhoneNumber:ok' } })
  await flush()
  expect(fake.callsTo('POST', '/api/v1/me/phone')[0].body).toEqual({ code: 'phone-code-1' })
  expect(page.instance.data.form.phone).toBe('13912345678')
  expect(exists(page, '#phone-verified')).toBe(true)
  // editing the number drops the 已验证 mark
  await input(page, '#phone', '13912345679')
  expect(exists(page, '#phone-verified')).toBe(false)
})

test('a refused phone authorization sends nothing', async () => {
  const page = await openForm()
  page.querySelector('#get-phone').dispatchEvent('getphonenumber', { detail: { errMsg: 'getPhoneNumber:fail user deny' } })
  await flush()
  expect(fake.callsTo('POST', '/api/v1/me/phone')).toHaveLength(0)
  expect(wxState.toasts).toEqual(['未获取手机号授权，也可以手动填写'])
})

test('a failed phone verification shows the server message', async () => {
  fake.on('POST', '/api/v1/me/phone', () => envelope(422, 'invalid_code', '手机号授权无效或已过期，请重新授权', { code: ['手机号授权码无效'] }))
  const page = await openForm()
  page.querySelector('#get-phone').dispatchEvent('getphonenumber', { detail: { code: 'x' } })
  await flush()
  expect(wxState.toasts).toEqual(['手机号授权无效或已过期，请重新授权'])
  expect(page.instance.data.verifyingPhone).toBe(false)
})

test('pending: no subscribe button when the account has no result template', async () => {
  fake.on('GET', '/api/v1/me/subscriptions', () => [])
  fake.on('POST', '/api/v1/me/houses', () => ({ status: 201, body: membership(8, { status: 'pending' }) }))
  const page = await openForm()
  await fillForm(page)
  await tap(page, '#submit')
  expect(text(page, '#pending-title')).toBe('已提交，等待物业审核')
  expect(wxState.modals).toHaveLength(0)
  expect(exists(page, '#subscribe')).toBe(false)
})
