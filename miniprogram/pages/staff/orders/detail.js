// Desk / supervisor view of one order: GET /api/v1/staff/work-orders/{id} (breaches, full timeline).
// Opened from the "工单督办提醒" staff message (pages/staff/orders/detail?id=).
// 派单/改派 to an on-duty member of the order's department (receptionist, manager, that department's
// supervisor) and 回访 (receptionist, manager) once the work is done. The server has the last word: a 403
// or 409 is shown as it comes.
const api = require('../../../utils/api')
const { decorate, deskActions } = require('../../../utils/orders')
const { loadRemotePhotos } = require('../../../utils/upload')
const { toast } = require('../../../utils/ui')
const { formatTime } = require('../../../utils/format')

const RESULTS = [
  { value: 'satisfied', label: '满意' },
  { value: 'unsatisfied', label: '不满意' },
]

Component({
  data: {
    loading: true,
    error: '',
    staff: null,
    order: null,
    actions: {},
    notice: '',
    orderPhotos: [],
    callbackText: '',

    // assign
    assigning: false,
    members: [],
    membersLoading: false,
    assigneeId: 0,
    assignError: '',
    assignSaving: false,

    // callback
    results: RESULTS,
    result: '',
    note: '',
    callbackError: '',
    callbackSaving: false,
  },

  methods: {
    onLoad(query) {
      this.orderId = Number((query && query.id) || 0)
      return this.load()
    },

    onPullDownRefresh() {
      return this.load().then(() => wx.stopPullDownRefresh())
    },

    load() {
      if (!this.orderId) {
        this.setData({ loading: false, error: '未找到该工单' })
        return Promise.resolve()
      }
      if (!this.data.order) this.setData({ loading: true, error: '' })
      const staff = this.data.staff
        ? Promise.resolve(this.data.staff)
        : api.get('/api/v1/staff/me').catch(() => null) // without it the server still decides
      return Promise.all([staff, api.get('/api/v1/staff/work-orders/' + this.orderId)])
        .then(([me, order]) => {
          this.setData({ staff: me })
          return this.show(order)
        })
        .catch((err) => {
          if (this.data.order) toast(err.message)
          else this.setData({ loading: false, error: err.message })
        })
    },

    reload() {
      return this.load()
    },

    show(order) {
      const before = this.data.order
      this.setData({
        loading: false,
        error: '',
        order: decorate(order),
        actions: deskActions(this.data.staff, order),
        callbackText: order.callback_at ? '已回访（' + formatTime(order.callback_at) + '）' : (order.needs_callback ? '待回访' : ''),
      })
      if (!before || JSON.stringify(before.photos) !== JSON.stringify(order.photos)) {
        return loadRemotePhotos(this, 'orderPhotos', order.photos)
      }
      return null
    },

    onCall() {
      const phone = this.data.order && this.data.order.contact_phone
      if (phone) wx.makePhoneCall({ phoneNumber: phone, fail: () => {} })
    },

    onPreview(e) {
      const urls = this.data.orderPhotos.filter((p) => p.status === 'ok').map((p) => p.path)
      if (urls.length) wx.previewImage({ urls, current: e.currentTarget.dataset.path })
    },

    // -- assign -------------------------------------------------------------------------------

    openAssign() {
      this.setData({ assigning: true, assignError: '', assigneeId: 0 })
      return this.loadMembers()
    },

    loadMembers() {
      const order = this.data.order
      this.setData({ membersLoading: true, assignError: '' })
      return api
        .get('/api/v1/staff/members', { department: order.department, on_duty: true })
        .then((list) => {
          const current = order.assignee ? order.assignee.id : 0
          const members = (list || [])
            .filter((m) => m.active !== false && (m.role === 'worker' || m.role === 'supervisor'))
            .map((m) => Object.assign({}, m, { current: m.id === current }))
          this.setData({ membersLoading: false, members })
        })
        .catch((err) => this.setData({ membersLoading: false, members: [], assignError: err.message }))
    },

    onMemberTap(e) {
      this.setData({ assigneeId: Number(e.currentTarget.dataset.id), assignError: '' })
    },

    closeAssign() {
      if (!this.data.assignSaving) this.setData({ assigning: false })
    },

    confirmAssign() {
      if (this.data.assignSaving) return Promise.resolve()
      const id = this.data.assigneeId
      if (!id) {
        this.setData({ assignError: '请选择员工' })
        return Promise.resolve()
      }
      this.setData({ assignSaving: true, assignError: '', notice: '' })
      return api.post('/api/v1/staff/work-orders/' + this.orderId + '/assign', { assignee_id: id }).then(
        (order) => {
          this.setData({ assignSaving: false, assigning: false })
          this.show(order)
          toast('已派给' + ((order.assignee && order.assignee.name) || '该员工'), 'success')
        },
        (err) => {
          // 403 (not allowed), 409 (already assigned / state changed), 422 (not in the department): say so.
          const fields = err.fields || {}
          const msg = fields.assignee_id ? [].concat(fields.assignee_id).join('；') : err.message
          this.setData({ assignSaving: false, assignError: msg })
          if (err.status === 409) this.load()
        },
      )
    },

    // -- callback -----------------------------------------------------------------------------

    onResultTap(e) {
      this.setData({ result: e.currentTarget.dataset.value, callbackError: '' })
    },

    onNoteInput(e) {
      this.setData({ note: e.detail.value })
    },

    submitCallback() {
      if (this.data.callbackSaving) return Promise.resolve()
      if (!this.data.result) {
        this.setData({ callbackError: '请选择回访结果' })
        return Promise.resolve()
      }
      this.setData({ callbackSaving: true, callbackError: '', notice: '' })
      const body = { result: this.data.result, note: String(this.data.note || '').trim() }
      return api.post('/api/v1/staff/work-orders/' + this.orderId + '/callback', body).then(
        (callback) => {
          this.setData({ callbackSaving: false, result: '', note: '' })
          toast(body.result === 'unsatisfied' ? '已记录，安排免费返工' : '已记录回访', 'success')
          return this.load() // an unsatisfied callback sends the order back to dispatch
        },
        (err) => {
          // Keep the result and the note.
          const fields = err.fields || {}
          const msg = fields.note || fields.result
          this.setData({ callbackSaving: false, callbackError: msg ? [].concat(msg).join('；') : err.message })
          if (err.status === 409) this.load()
        },
      )
    },

    noop() {},
  },
})
