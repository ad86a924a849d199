const { setup, flush, loadPage, text, exists, all, tap, input, fire, membership, envelope } = require('./helpers/env')
const { order, catalog } = require('./helpers/orders')

let fake
let wxState

const COMPLAINT_CATEGORIES = [
  { key: 'emergency', label: '紧急事件（火情、受伤、水浸、燃气等）', emergency: true },
  { key: 'environment', label: '环境卫生', emergency: false },
  { key: 'noise', label: '噪音', emergency: false },
  { key: 'service_attitude', label: '服务态度', emergency: false },
]
const CAT = { emergency: 0, environment: 1, noise: 2, service_attitude: 3 }

const SUBS = (credits) => [
  { key: 'binding_result', template_id: 'tpl-binding-result', title: '房屋绑定审核结果', credits: 0 },
  { key: 'order_status', template_id: 'tpl-order-status', title: '工单进度通知', credits: credits.order_status || 0 },
  { key: 'complaint_reply', template_id: 'tpl-complaint-reply', title: '投诉处理回复', credits: credits.complaint_reply || 0 },
  { key: 'payment_result', template_id: 'tpl-payment-result', title: '缴费成功通知', credits: 0 },
]

function complaint(id, overrides) {
  return order(id, Object.assign({
    number: 'TS20261123-' + String(id).padStart(4, '0'),
    kind: 'complaint',
    kind_label: '投诉',
    title: '噪音投诉',
    category: 'noise',
    category_label: '噪音',
    department: 'service_center',
    emergency: false,
    important: false,
    about_staff_name: null,
    arrived_at: null,
    deadlines: { confirm_due_at: null, complete_due_at: null, callback_due_at: null, handler_due_at: null, onsite_due_at: null, reply_due_at: null },
  }, overrides || {}))
}

beforeEach(() => {
  ;({ fake, wx: wxState } = setup())
  fake.on('GET', '/api/v1/me/houses', () => [membership(1), membership(2)])
  fake.on('GET', '/api/v1/catalog', () => catalog({ complaint_categories: COMPLAINT_CATEGORIES }))
  fake.on('GET', '/api/v1/me/subscriptions', () => SUBS({}))
  fake.on('POST', '/api/v1/me/subscriptions', () => SUBS({ order_status: 1, complaint_reply: 1 }))
  fake.on('POST', '/api/v1/work-orders', () => ({ status: 201, body: complaint(31) }))
})

describe('complaint form', () => {
  async function open(query) {
    const page = loadPage('pages/complaints/new')
    page.instance.onLoad(query || {})
    await flush()
    return page
  }

  const orderCalls = () => fake.callsTo('POST', '/api/v1/work-orders')

  test('categories come from complaint_categories; the body is sent after the subscription asked inside the tap', async () => {
    const page = await open({ house_id: '2' })
    expect(fake.requests()).toContain('GET /api/v1/catalog?community=demo')
    await fire(page, '#category', 'change', { value: CAT.noise })
    expect(text(page, '#category-value')).toContain('噪音')
    expect(exists(page, '#emergency-notice')).toBe(false)
    expect(exists(page, '#about-staff-field')).toBe(false)
    await input(page, '#description', '  楼上每晚 12 点后装修噪音  ')

    const done = page.instance.submit()
    // Asked synchronously, inside the tap: both templates (in the API's order), as none has credits left.
    expect(wxState.subscribeRequests).toEqual([['tpl-order-status', 'tpl-complaint-reply']])
    await done
    await flush()
    expect(fake.callsTo('POST', '/api/v1/me/subscriptions').map((c) => c.body)).toEqual([{ accepted: ['tpl-order-status', 'tpl-complaint-reply'] }])
    expect(orderCalls().map((c) => c.body)).toEqual([{
      kind: 'complaint',
      house_id: 2,
      category: 'noise',
      description: '楼上每晚 12 点后装修噪音',
      photos: [],
    }])
    expect(wxState.toasts).toContain('投诉已提交')
    expect(wxState.navigations).toEqual([['redirectTo', '/pages/orders/detail?id=31']])
  })

  test('templates with credits left are not asked for again', async () => {
    fake.on('GET', '/api/v1/me/subscriptions', () => SUBS({ complaint_reply: 2, order_status: 1 }))
    const page = await open()
    await fire(page, '#category', 'change', { value: CAT.environment })
    await input(page, '#description', '垃圾桶两天没清')
    await tap(page, '#submit')
    await flush()
    expect(wxState.subscribeRequests).toEqual([])
    expect(orderCalls()).toHaveLength(1)
  })

  test('only one template without credits: only that one is asked for', async () => {
    fake.on('GET', '/api/v1/me/subscriptions', () => SUBS({ order_status: 3 }))
    const page = await open()
    await fire(page, '#category', 'change', { value: CAT.environment })
    await input(page, '#description', '垃圾桶两天没清')
    const done = page.instance.submit()
    expect(wxState.subscribeRequests).toEqual([['tpl-complaint-reply']])
    await done
  })

  test('an emergency shows the red notice and asks to confirm; cancelling keeps everything', async () => {
    const page = await open()
    await fire(page, '#category', 'change', { value: CAT.emergency })
    expect(text(page, '#emergency-notice')).toBe('紧急情况请同时拨打物业值班电话')
    await input(page, '#description', '地下车库水浸')

    wxState.modalAnswers.push(false)
    await tap(page, '#submit')
    expect(wxState.modals).toHaveLength(1)
    expect(wxState.modals[0].content).toContain('紧急情况请同时拨打物业值班电话')
    expect(orderCalls()).toHaveLength(0)
    expect(wxState.subscribeRequests).toEqual([])
    expect(page.instance.data.description).toBe('地下车库水浸')
    expect(page.instance.data.submitting).toBe(false)

    await tap(page, '#submit') // confirmed this time
    await flush()
    expect(wxState.modals).toHaveLength(2)
    // Asked from the dialog's confirm callback, then sent.
    expect(wxState.subscribeRequests).toEqual([['tpl-order-status', 'tpl-complaint-reply']])
    expect(orderCalls().map((c) => c.body)).toEqual([{
      kind: 'complaint', house_id: 1, category: 'emergency', description: '地下车库水浸', photos: [],
    }])
  })

  test('the emergency notice goes away with another category; no confirm then', async () => {
    const page = await open()
    await fire(page, '#category', 'change', { value: CAT.emergency })
    expect(exists(page, '#emergency-notice')).toBe(true)
    await fire(page, '#category', 'change', { value: CAT.noise })
    expect(exists(page, '#emergency-notice')).toBe(false)
    await input(page, '#description', '广场舞音响太吵')
    await tap(page, '#submit')
    await flush()
    expect(wxState.modals).toHaveLength(0)
    expect(orderCalls()).toHaveLength(1)
  })

  test('涉及员工 only for 服务态度, and only sent there', async () => {
    const page = await open()
    await fire(page, '#category', 'change', { value: CAT.service_attitude })
    expect(exists(page, '#about-staff-field')).toBe(true)
    await input(page, '#about-staff', ' 李保安 ')
    await input(page, '#description', '态度恶劣')
    await tap(page, '#submit')
    await flush()
    expect(orderCalls()[0].body).toEqual({
      kind: 'complaint', house_id: 1, category: 'service_attitude', description: '态度恶劣', photos: [], about_staff_name: '李保安',
    })

    // Switching to another category hides the field; the name is not sent there.
    const again = await open()
    await fire(again, '#category', 'change', { value: CAT.service_attitude })
    await input(again, '#about-staff', '李保安')
    await fire(again, '#category', 'change', { value: CAT.environment })
    expect(exists(again, '#about-staff-field')).toBe(false)
    await input(again, '#description', '楼道脏')
    await tap(again, '#submit')
    await flush()
    expect(orderCalls()[1].body).not.toHaveProperty('about_staff_name')
    expect(orderCalls()[1].body.category).toBe('environment')
  })

  test('an empty staff name is left out', async () => {
    const page = await open()
    await fire(page, '#category', 'change', { value: CAT.service_attitude })
    await input(page, '#description', '态度差')
    await tap(page, '#submit')
    await flush()
    expect(orderCalls()[0].body).not.toHaveProperty('about_staff_name')
  })

  test('photos are uploaded with the upload util and their ids sent', async () => {
    const page = await open()
    await fire(page, '#category', 'change', { value: CAT.environment })
    await input(page, '#description', '楼道堆满杂物')
    wxState.mediaQueue.push(['wxfile://tmp/a.jpg', 'wxfile://tmp/b.jpg'])
    await tap(page, '#add-photo')
    await flush(30)
    await tap(page, '#submit')
    await flush()
    expect(orderCalls()[0].body.photos).toEqual([501, 502])
  })

  test('category and description are required', async () => {
    const page = await open()
    await tap(page, '#submit')
    expect(orderCalls()).toHaveLength(0)
    expect(text(page, '#error-category')).toBe('请选择投诉类别')
    expect(text(page, '#error-description')).toBe('请描述投诉的内容')
    expect(text(page, '#form-error')).toBe('请检查标红的内容')
  })

  test('server field errors show under their fields; the form is kept', async () => {
    fake.on('POST', '/api/v1/work-orders', () => envelope(422, 'validation_error', '提交的内容有误，请检查后重试', { about_staff_name: ['最多 50 个字'] }))
    const page = await open()
    await fire(page, '#category', 'change', { value: CAT.service_attitude })
    await input(page, '#about-staff', '某某')
    await input(page, '#description', '态度恶劣')
    await tap(page, '#submit')
    await flush()
    expect(text(page, '#form-error')).toBe('提交的内容有误，请检查后重试')
    expect(text(page, '#error-about_staff_name')).toBe('最多 50 个字')
    expect(page.instance.data.description).toBe('态度恶劣')
    expect(page.instance.data.aboutStaffName).toBe('某某')
    expect(page.instance.data.submitting).toBe(false)
  })

  test('without an approved house: explain and offer binding', async () => {
    fake.on('GET', '/api/v1/me/houses', () => [membership(1, { status: 'pending' })])
    const page = await open()
    expect(text(page, '#no-house')).toContain('投诉需要先绑定房屋')
  })
})

describe('complaint in the order detail', () => {
  let current

  beforeEach(() => {
    current = complaint(31)
    fake.on('GET', '/api/v1/work-orders/:id', () => current)
  })

  async function open(o) {
    if (o) current = o
    const page = loadPage('pages/orders/detail')
    page.instance.onLoad({ id: '31' })
    await flush()
    return page
  }

  const NOW = Date.now()
  const iso = (offsetMin) => new Date(NOW + offsetMin * 60000).toISOString()

  test('replies from the timeline come first, newest first, the final one marked', async () => {
    const page = await open(complaint(31, {
      status: 'completed',
      timeline: [
        { id: 1, at: '2026-11-23T10:05:00+08:00', actor: 'owner', actor_name: null, action: 'created', action_label: '提交', note: '小程序受理' },
        { id: 2, at: '2026-11-23T10:08:00+08:00', actor: 'staff', actor_name: '刘芳', action: 'accept', action_label: '接单', note: '已受理' },
        { id: 3, at: '2026-11-23T11:00:00+08:00', actor: 'staff', actor_name: '刘芳', action: 'reply', action_label: '答复', note: '已联系楼上住户' },
        { id: 4, at: '2026-11-23T16:00:00+08:00', actor: 'staff', actor_name: '刘芳', action: 'resolve', action_label: '处理完毕', note: '住户承诺晚 10 点后停工' },
      ],
    }))
    const replies = all(page, '.reply').map((n) => n.dom.textContent.replace(/\s+/g, ' ').trim())
    expect(replies).toHaveLength(2)
    expect(replies[0]).toContain('最终答复')
    expect(replies[0]).toContain('住户承诺晚 10 点后停工')
    expect(replies[0]).toContain('刘芳')
    expect(replies[1]).toContain('处理进展')
    expect(replies[1]).toContain('已联系楼上住户')
    // The replies card is above the details.
    const html = page.dom.innerHTML
    expect(html.indexOf('处理答复')).toBeGreaterThan(0)
    expect(html.indexOf('处理答复')).toBeLessThan(html.indexOf('提交时间'))
    expect(text(page, '#category')).toContain('噪音')
  })

  test('no reply yet: says so; deadlines in words (受理 / 答复)', async () => {
    const page = await open(complaint(31, {
      status: 'dispatched',
      deadlines: { handler_due_at: iso(600), reply_due_at: iso(1200), callback_due_at: null, onsite_due_at: null },
    }))
    expect(text(page, '#no-reply')).toContain('服务中心尚未答复')
    const lines = all(page, '.deadline').map((n) => n.dom.textContent.trim())
    expect(lines).toHaveLength(2)
    expect(lines[0]).toMatch(/^受理时限：服务中心将在 .+ 前受理您的投诉$/)
    expect(lines[1]).toMatch(/^答复时限：将在 .+ 前答复您$/)
    expect(text(page, '#urge')).toBe('催办')
  })

  test('overdue clocks say so; the reply clock goes once there is a reply', async () => {
    const page = await open(complaint(31, {
      status: 'accepted',
      deadlines: { handler_due_at: iso(-60), reply_due_at: iso(-10), callback_due_at: null, onsite_due_at: null },
    }))
    expect(all(page, '.deadline').map((n) => n.dom.textContent.trim())).toEqual([
      expect.stringMatching(/^答复时限：应在 .+ 前答复您，已超时，可以催办$/),
    ])
    const replied = await open(complaint(31, {
      status: 'accepted',
      deadlines: { handler_due_at: iso(-60), reply_due_at: iso(-10), callback_due_at: null, onsite_due_at: null },
      timeline: [{ id: 3, at: '2026-11-23T11:00:00+08:00', actor: 'staff', actor_name: '刘芳', action: 'reply', action_label: '答复', note: '处理中' }],
    }))
    expect(exists(replied, '#deadlines')).toBe(false)
  })

  test('an emergency shows the on-site clock', async () => {
    const page = await open(complaint(31, {
      status: 'dispatched', emergency: true, urgent: true,
      deadlines: { handler_due_at: null, onsite_due_at: iso(5), reply_due_at: null, callback_due_at: null },
    }))
    expect(text(page, '#deadlines')).toMatch(/工作人员将在 .+ 前赶到现场/)
  })

  test('completed: rate straight away (no confirm / rework); 2 stars or fewer reopen it with the manager', async () => {
    fake.on('POST', '/api/v1/work-orders/:id/rating', (req) => complaint(31, { status: 'submitted', important: true, rework_count: 1, rating: req.body.score }))
    const page = await open(complaint(31, { status: 'completed' }))
    expect(exists(page, '#confirm')).toBe(false)
    expect(exists(page, '#rework')).toBe(false)
    expect(text(page, '#completed-hint')).toBe('投诉已处理完毕，请对处理结果进行评价。')
    expect(text(page, '#rating')).toContain('2 星及以下视为不满意：投诉将重新打开，由服务中心经理亲自处理')
    await tap(page, all(page, '.star')[0])
    expect(text(page, '#low-rating-notice')).toContain('投诉将重新打开，由经理亲自跟进')
    await input(page, '#comment', '没解决')
    await tap(page, '#rate-submit')
    expect(fake.callsTo('POST', '/api/v1/work-orders/31/rating').map((c) => c.body)).toEqual([{ score: 1, comment: '没解决' }])
    expect(wxState.toasts).toContain('投诉已重新打开，经理将亲自跟进')
    expect(text(page, '#status')).toBe('待派单')
  })

  test('a reopened complaint answered again can be rated again', async () => {
    const page = await open(complaint(31, { status: 'completed', rating: 2, rework_count: 1 }))
    expect(exists(page, '#rating')).toBe(true)
  })

  test('a service-attitude complaint shows the staff member named', async () => {
    const page = await open(complaint(31, { category: 'service_attitude', category_label: '服务态度', title: '服务态度投诉', about_staff_name: '李保安' }))
    expect(text(page, '#about-staff')).toContain('李保安')
  })
})
