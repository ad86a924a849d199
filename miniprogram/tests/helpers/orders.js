// Work-order data builders shaped like the API's OrderOut / StaffOrderOut / catalog.

const STATUS_LABELS = {
  submitted: '待派单', dispatched: '已派单', accepted: '已接单', on_site: '处理中', paused: '已暂停',
  completed: '待确认', confirmed: '已确认', closed: '已完成', cancelled: '已取消',
}

function order(id, overrides) {
  const o = overrides || {}
  const status = o.status || 'submitted'
  const service = o.kind === 'service'
  return Object.assign({
    id,
    number: (service ? 'FW' : 'BX') + '20261123-' + String(id).padStart(4, '0'),
    kind: service ? 'service' : 'repair',
    kind_label: service ? '有偿服务' : '报修',
    title: service ? '疏通下水道' : '给排水报修',
    status,
    status_label: STATUS_LABELS[status],
    urgent: false,
    house: { id: 1, label: '1栋1单元101' },
    quote_fen: service ? 5000 : null,
    final_fen: null,
    appointment_at: null,
    created_at: '2026-11-23T10:05:00+08:00',
    channel: 'miniprogram',
    channel_label: '小程序',
    department: 'engineering',
    department_label: '工程部',
    category: service ? 'item:3' : 'water',
    service_item_id: service ? 3 : null,
    quantity: 1,
    description: '厨房水槽漏水',
    photos: [],
    preferred_time: null,
    assignee: null,
    materials: [],
    materials_fen: 0,
    paid_fen: 0,
    amount_needs_confirmation: false,
    completion_notes: '',
    completion_photos: [],
    rework_count: 0,
    rating: null,
    rating_comment: null,
    cancel_reason: null,
    deadlines: { confirm_due_at: null, complete_due_at: null, callback_due_at: null },
    completed_at: null,
    confirmed_at: null,
    timeline: [
      { id: 1, at: '2026-11-23T10:05:00+08:00', actor: 'owner', actor_name: null, action: 'created', action_label: '提交', from_status: null, to_status: 'submitted', note: '小程序受理', data: {} },
    ],
  }, o, { status_label: STATUS_LABELS[status] })
}

function staffOrder(id, overrides) {
  return Object.assign(order(id, overrides), {
    contact_name: '张三',
    contact_phone: '13800000001',
    received_by: null,
    needs_callback: false,
    callback_at: null,
    offer_expires_at: null,
    breaches: [],
  }, overrides || {})
}

// Summary (list) shape.
function summary(id, overrides) {
  const full = order(id, overrides)
  const keys = ['id', 'number', 'kind', 'kind_label', 'title', 'status', 'status_label', 'urgent', 'house', 'quote_fen', 'final_fen', 'appointment_at', 'created_at']
  const out = {}
  keys.forEach((k) => {
    out[k] = full[k]
  })
  return out
}

function catalog(overrides) {
  return Object.assign({
    community: { code: 'demo', name: '示例小区' },
    items: [
      { id: 3, name: '疏通下水道', category: '管道疏通', department: 'engineering', department_label: '工程部', price_fen: 5000, unit: '次', description: '厨房、卫生间下水' },
      { id: 4, name: '更换水龙头', category: '水电维修', department: 'engineering', department_label: '工程部', price_fen: 3000, unit: '个', description: '' },
      { id: 5, name: '疏通马桶', category: '管道疏通', department: 'engineering', department_label: '工程部', price_fen: 8000, unit: '次', description: '' },
      { id: 6, name: '家庭保洁', category: '保洁', department: 'cleaning', department_label: '保洁部', price_fen: 3550, unit: '小时', description: '' },
    ],
    repair_categories: [
      { key: 'water', label: '给排水', urgent_allowed: true },
      { key: 'electricity', label: '电路电器', urgent_allowed: true },
      { key: 'doors_windows', label: '门窗锁具', urgent_allowed: false },
      { key: 'other', label: '其他', urgent_allowed: false },
    ],
    out_of_scope: ['家用电器维修', '房屋装修'],
  }, overrides || {})
}

const SUBS = (credits) => [
  { key: 'binding_result', template_id: 'tpl-binding-result', title: '房屋绑定审核结果', credits: 0 },
  { key: 'order_status', template_id: 'tpl-order-status', title: '工单进度通知', credits },
]

module.exports = { STATUS_LABELS, order, staffOrder, summary, catalog, SUBS }
