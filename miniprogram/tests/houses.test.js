const { setup, flush, loadPage, text, exists, all, tap, membership, envelope } = require('./helpers/env')

let fake
let wxState
let houses

beforeEach(() => {
  ;({ fake, wx: wxState } = setup())
  houses = [
    membership(1),
    membership(2, { status: 'pending', role: 'family', pending_reason: '不在业主名册中' }),
    membership(3, { status: 'rejected', role: 'tenant', reject_reason: '租赁合同已到期' }),
    membership(4, { role: 'tenant' }),
  ]
  fake.on('GET', '/api/v1/me/houses', () => houses)
  fake.on('DELETE', '/api/v1/me/houses/:id', (req) => {
    houses = houses.filter((h) => h.id !== Number(req.params.id))
  })
  fake.on('GET', '/api/v1/me/subscriptions', () => [{ key: 'binding_result', template_id: 'tpl-binding-result', title: '房屋绑定审核结果', credits: 0 }])
  fake.on('POST', '/api/v1/me/subscriptions', () => [])
})

async function open(query) {
  const page = loadPage('pages/houses/index')
  page.instance.onLoad(query || {})
  page.instance.onShow()
  await flush()
  return page
}

test('renders each status with its details', async () => {
  const page = await open()
  const cards = all(page, '.house')
  expect(cards).toHaveLength(4)
  const t = (i) => cards[i].dom.textContent.replace(/\s+/g, ' ')
  expect(t(0)).toContain('1栋1单元101')
  expect(t(0)).toContain('已通过')
  expect(t(0)).toContain('通过于 2026-11-23 11:30')
  expect(t(1)).toContain('待审核')
  expect(t(1)).toContain('待审核：不在业主名册中')
  expect(t(1)).toContain('提交于 2026-11-23 10:05')
  expect(t(2)).toContain('未通过原因：租赁合同已到期')
  expect(cards[2].dom.className).toContain('status-rejected')
  // members only for an approved owner
  expect(all(page, '.members-btn')).toHaveLength(1)
  expect(t(0)).toContain('家庭成员与租户')
  expect(t(3)).not.toContain('家庭成员与租户')
  // button texts follow the status
  expect(all(page, '.unbind-btn').map((b) => b.dom.textContent.trim())).toEqual(['解绑', '撤回申请', '删除', '解绑'])
  expect(exists(page, '.highlight')).toBe(false)
})

test('highlights the membership opened from the subscribe message (?id=)', async () => {
  const page = await open({ id: '3' })
  const highlighted = all(page, '.highlight')
  expect(highlighted).toHaveLength(1)
  expect(highlighted[0].dom.getAttribute('data-id')).toBe('3')
  expect(wxState.scrolls).toEqual(['#m-3'])
  expect(exists(page, '#notice')).toBe(false)
})

test('says so when the membership of ?id= is gone', async () => {
  const page = await open({ id: '99' })
  expect(text(page, '#notice')).toBe('该房屋绑定已解除或不存在')
  expect(exists(page, '.highlight')).toBe(false)
})

test('unbinds after the confirm modal', async () => {
  const page = await open()
  await tap(page, all(page, '.unbind-btn')[0])
  expect(wxState.modals).toHaveLength(1)
  expect(wxState.modals[0].title).toBe('解绑房屋')
  expect(wxState.modals[0].content).toContain('1栋1单元101')
  expect(fake.callsTo('DELETE', '/api/v1/me/houses/1')).toHaveLength(1)
  expect(all(page, '.house').map((c) => c.dom.getAttribute('data-id'))).toEqual(['2', '3', '4'])
  expect(wxState.toasts).toContain('已解绑')
})

test('cancelling the modal unbinds nothing', async () => {
  wxState.modalAnswers = [false]
  const page = await open()
  await tap(page, all(page, '.unbind-btn')[1])
  expect(wxState.modals[0].title).toBe('撤回申请')
  expect(fake.calls.filter((c) => c.method === 'DELETE')).toHaveLength(0)
  expect(all(page, '.house')).toHaveLength(4)
})

test('a failed unbind keeps the house and shows the message', async () => {
  fake.on('DELETE', '/api/v1/me/houses/:id', () => envelope(404, 'not_found', '未找到该房屋绑定'))
  const page = await open()
  await tap(page, all(page, '.unbind-btn')[0])
  expect(all(page, '.house')).toHaveLength(4)
  expect(wxState.toasts).toContain('未找到该房屋绑定')
})

test('links an approved owner to the members page', async () => {
  const page = await open()
  await tap(page, '.members-btn')
  expect(wxState.navigations).toEqual([['navigateTo', '/pages/houses/members?id=1&label=' + encodeURIComponent('1栋1单元101')]])
})

test('offers the 审核结果通知 while something is pending', async () => {
  const page = await open()
  expect(exists(page, '#subscribe-banner')).toBe(true)
  await tap(page, '#subscribe')
  expect(wxState.subscribeRequests).toEqual([['tpl-binding-result']])
  expect(fake.callsTo('POST', '/api/v1/me/subscriptions')[0].body).toEqual({ accepted: ['tpl-binding-result'] })
  expect(exists(page, '#subscribe-banner')).toBe(false)
})

test('no pending binding: no subscription lookup', async () => {
  houses = [membership(1)]
  const page = await open()
  expect(exists(page, '#subscribe-banner')).toBe(false)
  expect(fake.requests()).toEqual(['GET /api/v1/me/houses'])
})

test('empty list and load errors', async () => {
  houses = []
  const page = await open()
  expect(exists(page, '#empty')).toBe(true)

  fake.offline = true
  const page2 = await open()
  expect(text(page2, '#error')).toContain('网络不给力，请稍后重试')
})
