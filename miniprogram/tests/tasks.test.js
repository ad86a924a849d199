const { setup, flush, loadPage, text, exists, all, tap, input, fire, envelope } = require('./helpers/env')
const { staffOrder, summary, STATUS_LABELS } = require('./helpers/orders')

let fake
let wxState
let current

const MATERIALS = [
  { id: 1, name: '角阀', unit: '个', price_fen: 1250, active: true },
  { id: 2, name: 'PPR 管', unit: '米', price_fen: 335, active: true },
  { id: 3, name: '停用的材料', unit: '个', price_fen: 100, active: false },
]

beforeEach(() => {
  ;({ fake, wx: wxState } = setup())
  fake.session.staff = { id: 5, name: '王师傅', role: 'worker', role_label: '员工', department: 'engineering' }
  current = staffOrder(7, { status: 'dispatched' })
  fake.on('GET', '/api/v1/staff/tasks/:id', () => current)
  fake.on('GET', '/api/v1/staff/catalog/materials', () => MATERIALS)
  const step = (status, extra) => (req) => {
    current = Object.assign({}, current, { status, status_label: STATUS_LABELS[status] }, extra ? extra(req) : {})
    return current
  }
  fake.on('POST', '/api/v1/staff/tasks/:id/accept', step('accepted', (req) => ({ appointment_at: req.body.appointment_at || '2030-01-01T10:00:00+08:00' })))
  fake.on('POST', '/api/v1/staff/tasks/:id/decline', step('submitted', () => ({ assignee: null })))
  fake.on('POST', '/api/v1/staff/tasks/:id/arrive', step('on_site'))
  fake.on('POST', '/api/v1/staff/tasks/:id/pause', step('paused'))
  fake.on('POST', '/api/v1/staff/tasks/:id/resume', step('on_site'))
  fake.on('POST', '/api/v1/staff/tasks/:id/complete', step('completed', (req) => ({ completion_notes: req.body.notes })))
})

test('the task list: unfinished tasks, tap opens one', async () => {
  fake.on('GET', '/api/v1/staff/tasks', () => [summary(8, { status: 'dispatched', urgent: true }), summary(3, { status: 'on_site', appointment_at: '2030-01-02T09:30:00+08:00' })])
  const page = loadPage('pages/staff/tasks/index')
  page.instance.onLoad({})
  await flush()
  expect(fake.requests()).toEqual(['GET /api/v1/staff/tasks'])
  const tasks = all(page, '.task')
  expect(tasks).toHaveLength(2)
  expect(tasks[0].dom.textContent).toContain('紧急')
  expect(tasks[0].dom.textContent).toContain('已派单')
  expect(tasks[1].dom.textContent).toContain('预约 2030-01-02 09:30')
  await tap(page, tasks[1])
  expect(wxState.navigations).toEqual([['navigateTo', '/pages/staff/tasks/detail?id=3']])
})

async function open(o) {
  if (o) current = o
  const page = loadPage('pages/staff/tasks/detail')
  page.instance.onLoad({ id: '7' })
  await flush()
  return page
}

const steps = (page) => ['#decline', '#accept', '#arrive', '#pause', '#resume', '#complete'].filter((s) => exists(page, s))

test.each([
  ['dispatched', ['#decline', '#accept']],
  ['accepted', ['#arrive']],
  ['on_site', ['#pause', '#complete']],
  ['paused', ['#resume']],
  ['completed', []],
  ['cancelled', []],
])('%s offers %j', async (status, expected) => {
  const page = await open(staffOrder(7, { status }))
  expect(steps(page)).toEqual(expected)
})

test('shows the contact with tap-to-call', async () => {
  const page = await open(staffOrder(7, {
    status: 'dispatched',
    offer_expires_at: '2030-01-01T10:10:00+08:00',
    deadlines: { confirm_due_at: null, complete_due_at: '2030-01-01T18:00:00+08:00', callback_due_at: null },
  }))
  expect(text(page, '#contact')).toContain('张三')
  expect(text(page, '#complete-due')).toBe('完工时限2030-01-01 18:00 前')
  expect(text(page, '#offer-expires')).toBe('请在 2030-01-01 10:10 前接单，超时将改派他人')
  await tap(page, '#call')
  expect(wxState.phoneCalls).toEqual(['13800000001'])
})

test('accept with an appointment time, as ISO with +08:00', async () => {
  const page = await open()
  await tap(page, '#accept')
  expect(exists(page, '#accept-dialog')).toBe(true)
  await fire(page, '#when-date', 'change', { value: '2030-01-02' })
  await fire(page, '#when-time', 'change', { value: '14:00' })
  await tap(page, '#accept-confirm')
  expect(fake.callsTo('POST', '/api/v1/staff/tasks/7/accept').map((c) => c.body)).toEqual([{ appointment_at: '2030-01-02T14:00:00+08:00' }])
  expect(exists(page, '#accept-dialog')).toBe(false)
  expect(text(page, '#status')).toBe('已接单')
  expect(text(page, '#appointment')).toContain('2030-01-02 14:00')
  expect(steps(page)).toEqual(['#arrive'])
})

test('accept without a time keeps the owner preferred time; a refused time is shown', async () => {
  fake.on('POST', '/api/v1/staff/tasks/:id/accept', () => envelope(422, 'validation_error', '预约时间不能早于现在', { appointment_at: ['预约时间不能早于现在'] }))
  const page = await open()
  await tap(page, '#accept')
  await tap(page, '#accept-confirm')
  expect(fake.callsTo('POST', '/api/v1/staff/tasks/7/accept').map((c) => c.body)).toEqual([{ appointment_at: null }])
  expect(text(page, '#accept-error')).toBe('预约时间不能早于现在')
  expect(exists(page, '#accept-dialog')).toBe(true)
})

test('decline needs a reason, then the task is gone', async () => {
  const page = await open()
  await tap(page, '#decline')
  await tap(page, '#dialog-confirm')
  expect(text(page, '#dialog-error')).toBe('请填写拒单原因')
  await input(page, '#reason', '不在工作区域')
  await tap(page, '#dialog-confirm')
  expect(fake.callsTo('POST', '/api/v1/staff/tasks/7/decline').map((c) => c.body)).toEqual([{ reason: '不在工作区域' }])
  expect(text(page, '#gone')).toContain('已拒单，工单将改派给其他同事')
  await tap(page, '#go-list')
  expect(wxState.navigations).toEqual([['navigateBack']])
})

test('arrive (confirmed), pause with a reason, resume', async () => {
  const page = await open(staffOrder(7, { status: 'accepted' }))
  await tap(page, '#arrive')
  await flush()
  expect(wxState.modals[0].content).toContain('确认已到达现场')
  expect(text(page, '#status')).toBe('处理中')
  await tap(page, '#pause')
  await input(page, '#reason', '等待材料')
  await tap(page, '#dialog-confirm')
  expect(fake.callsTo('POST', '/api/v1/staff/tasks/7/pause').map((c) => c.body)).toEqual([{ reason: '等待材料' }])
  expect(steps(page)).toEqual(['#resume'])
  await tap(page, '#resume')
  expect(fake.callsTo('POST', '/api/v1/staff/tasks/7/resume')).toHaveLength(1)
  expect(steps(page)).toEqual(['#pause', '#complete'])
})

test('409 on a step: message and reload', async () => {
  fake.on('POST', '/api/v1/staff/tasks/:id/resume', () => {
    current = staffOrder(7, { status: 'cancelled' })
    return envelope(409, 'illegal_transition', '工单已取消，不能继续')
  })
  const page = await open(staffOrder(7, { status: 'paused' }))
  await tap(page, '#resume')
  await flush()
  expect(text(page, '#notice')).toBe('工单已取消，不能继续')
  expect(text(page, '#status')).toBe('已取消')
  expect(steps(page)).toEqual([])
})

async function openCompleteForm(o) {
  const page = await open(o || staffOrder(7, { status: 'on_site', kind: 'service', quote_fen: 5000 }))
  await tap(page, '#complete')
  await flush()
  return page
}

async function pick(page, index) {
  await fire(page, '#material-picker', 'change', { value: index })
}

test('complete: notes, photos, materials with decimal quantities, owner signed', async () => {
  const page = await openCompleteForm()
  expect(fake.requests()).toContain('GET /api/v1/staff/catalog/materials')
  expect(page.instance.data.materials.map((m) => m.id)).toEqual([1, 2]) // inactive ones are not offered
  expect(text(page, '#materials-total')).toBe('0.00 元')

  await input(page, '#notes', '更换角阀，接管 2.5 米')
  await pick(page, 0)
  await pick(page, 1)
  const qty = all(page, '.qty-input')
  await input(page, qty[1], '2.5')
  expect(all(page, '.line-amount').map((n) => n.dom.textContent)).toEqual(['12.50 元', '8.38 元']) // 3.35 x 2.5 = 8.375 -> 8.38
  expect(text(page, '#materials-total')).toBe('20.88 元')
  expect(text(page, '#final-estimate')).toBe('70.88 元')

  wxState.mediaQueue.push(['wxfile://tmp/done.jpg'])
  await tap(page, '#add-photo')
  await flush(10)
  await fire(page, '#owner-signed', 'change', { value: true })
  await tap(page, '#complete-submit')
  expect(fake.callsTo('POST', '/api/v1/staff/tasks/7/complete').map((c) => c.body)).toEqual([{
    notes: '更换角阀，接管 2.5 米',
    photos: [501],
    materials: [{ material_id: 1, quantity: 1 }, { material_id: 2, quantity: 2.5 }],
    owner_signed: true,
  }])
  expect(exists(page, '#complete-form')).toBe(false)
  expect(text(page, '#status')).toBe('待确认')
})

test('complete: a bad quantity is caught; the same material is added once; lines can be removed', async () => {
  const page = await openCompleteForm()
  await pick(page, 1)
  await pick(page, 1)
  expect(all(page, '.line')).toHaveLength(1)
  expect(wxState.toasts).toContain('已添加该材料，请修改数量')
  await input(page, all(page, '.qty-input')[0], '2.555')
  expect(text(page, '#materials-total')).toBe('—')
  await tap(page, '#complete-submit')
  expect(fake.callsTo('POST', '/api/v1/staff/tasks/7/complete')).toHaveLength(0)
  expect(all(page, '.line-error').map((n) => n.dom.textContent)).toEqual(['请填写数量，最多两位小数'])
  await input(page, all(page, '.qty-input')[0], '0')
  await tap(page, '#complete-submit')
  expect(all(page, '.line-error').map((n) => n.dom.textContent)).toEqual(['数量须大于 0'])
  await tap(page, all(page, '.line-remove')[0])
  expect(all(page, '.line')).toHaveLength(0)
  await tap(page, '#complete-submit')
  expect(fake.callsTo('POST', '/api/v1/staff/tasks/7/complete').map((c) => c.body)).toEqual([{ notes: '', photos: [], materials: [], owner_signed: false }])
})

test('complete: server errors land on their lines and nothing typed is lost', async () => {
  fake.on('POST', '/api/v1/staff/tasks/:id/complete', () => envelope(422, 'validation_error', '材料不存在', { 'materials.0.material_id': ['材料不存在或已停用'] }))
  const page = await openCompleteForm()
  await input(page, '#notes', '已修好')
  await pick(page, 0)
  await tap(page, '#complete-submit')
  expect(text(page, '#complete-error')).toBe('材料不存在')
  expect(all(page, '.line-error').map((n) => n.dom.textContent)).toEqual(['材料不存在或已停用'])
  expect(page.instance.data.completion.notes).toBe('已修好')
  expect(page.instance.data.completion.lines).toHaveLength(1)
  // leaving the form and coming back keeps it too
  await tap(page, '#complete-cancel')
  await tap(page, '#complete')
  expect(page.instance.data.completion.notes).toBe('已修好')
})
