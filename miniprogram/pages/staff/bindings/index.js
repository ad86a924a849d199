// Staff: pending house-binding reviews (receptionists, managers) and my on-duty switch.
// Opened from the staff template message as pages/staff/bindings/index?id=<membership id>.
const api = require('../../../utils/api')
const { toast, confirm, decorateMembership } = require('../../../utils/ui')

const PER_PAGE = 20

Component({
  data: {
    staff: null,
    staffError: '',
    dutySaving: false,

    loading: true,
    error: '',
    items: [],
    total: 0,
    loadingMore: false,
    highlightId: 0,
    notice: '',

    // The reject dialog
    rejecting: null, // the binding being rejected
    reason: '',
    rejectError: '',
    rejectSaving: false,
    busyId: 0, // the binding whose approve is in flight
  },

  methods: {
    onLoad(query) {
      const id = Number((query && query.id) || 0)
      this.setData({ highlightId: id > 0 ? id : 0 })
      return Promise.all([this.loadStaff(), this.refresh()])
    },

    onPullDownRefresh() {
      return Promise.all([this.loadStaff(), this.refresh()]).then(() => wx.stopPullDownRefresh())
    },

    // -- on duty ------------------------------------------------------------------------------

    loadStaff() {
      return api
        .get('/api/v1/staff/me')
        .then((staff) => this.setData({ staff, staffError: '' }))
        .catch((err) => this.setData({ staffError: err.message }))
    },

    onDutyChange(e) {
      const staff = this.data.staff
      if (!staff || this.data.dutySaving) return Promise.resolve()
      const onDuty = !!e.detail.value
      this.setData({ dutySaving: true, 'staff.on_duty': onDuty })
      return api
        .patch('/api/v1/staff/members/' + staff.id, { on_duty: onDuty })
        .then((updated) => {
          this.setData({ dutySaving: false, staff: updated })
          toast(updated.on_duty ? '已上岗' : '已离岗', 'success')
        })
        .catch((err) => {
          this.setData({ dutySaving: false, 'staff.on_duty': !onDuty })
          toast(err.message)
        })
    },

    // -- list ---------------------------------------------------------------------------------

    fetchPage(page) {
      return api.get('/api/v1/staff/bindings', { status: 'pending', page, per_page: PER_PAGE })
    },

    refresh() {
      const first = !this.loaded
      if (first) this.setData({ loading: true, error: '' })
      return this.fetchPage(1)
        .then((res) => {
          this.loaded = true
          const items = (res.items || []).map(decorateMembership)
          this.setData({ loading: false, error: '', items, total: res.total || 0 })
          this.updateNotice()
        })
        .catch((err) => {
          if (first || !this.data.items.length) this.setData({ loading: false, error: err.message })
          else toast(err.message)
        })
    },

    // Pages are offsets into a list that shrinks as we review: ask for the page that holds the
    // next unseen item and drop the ones we already have.
    loadMore() {
      if (this.data.loadingMore || this.data.items.length >= this.data.total) return Promise.resolve()
      this.setData({ loadingMore: true })
      const page = Math.floor(this.data.items.length / PER_PAGE) + 1
      return this.fetchPage(page)
        .then((res) => {
          const seen = {}
          this.data.items.forEach((it) => {
            seen[it.id] = true
          })
          const fresh = (res.items || []).filter((it) => !seen[it.id]).map(decorateMembership)
          this.setData({ loadingMore: false, items: this.data.items.concat(fresh), total: res.total || 0 })
          this.updateNotice()
        })
        .catch((err) => {
          this.setData({ loadingMore: false })
          toast(err.message)
        })
    },

    // Opened for one binding that is no longer pending (someone reviewed it already).
    updateNotice() {
      const id = this.data.highlightId
      if (!id) return
      const found = this.data.items.some((it) => it.id === id)
      const allLoaded = this.data.items.length >= this.data.total
      this.setData({ notice: !found && allLoaded ? '该申请已处理，不在待审核列表中' : '' })
      if (found && wx.pageScrollTo) wx.pageScrollTo({ selector: '#b-' + id, duration: 200, fail: () => {} })
    },

    removeItem(id) {
      this.setData({
        items: this.data.items.filter((it) => it.id !== id),
        total: Math.max(0, this.data.total - 1),
      })
    },

    find(id) {
      return this.data.items.find((it) => it.id === id)
    },

    // -- approve ------------------------------------------------------------------------------

    onApprove(e) {
      const id = Number(e.currentTarget.dataset.id)
      const item = this.find(id)
      if (!item || this.data.busyId) return Promise.resolve()
      return confirm({
        title: '通过绑定申请',
        content: '确认 ' + item.name + '（' + item.role_label + '）绑定 ' + item.label + '？',
        confirmText: '通过',
      }).then((ok) => {
        if (!ok) return null
        this.setData({ busyId: id })
        return api.post('/api/v1/staff/bindings/' + id + '/approve').then(
          () => {
            this.setData({ busyId: 0 })
            this.removeItem(id)
            toast('已通过', 'success')
          },
          (err) => {
            this.setData({ busyId: 0 })
            if (err.code === 'not_pending') this.removeItem(id) // reviewed by someone else meanwhile
            toast(err.message)
          },
        )
      })
    },

    // -- reject -------------------------------------------------------------------------------

    onReject(e) {
      const item = this.find(Number(e.currentTarget.dataset.id))
      if (!item) return
      // Same binding as last time (dialog cancelled or sending failed): keep the reason that was typed.
      const reason = this.reasonFor === item.id ? this.data.reason : ''
      this.reasonFor = item.id
      this.setData({ rejecting: item, reason, rejectError: '' })
    },

    onReasonInput(e) {
      this.setData({ reason: e.detail.value, rejectError: '' })
    },

    cancelReject() {
      if (this.data.rejectSaving) return
      this.setData({ rejecting: null, rejectError: '' })
    },

    confirmReject() {
      const item = this.data.rejecting
      if (!item || this.data.rejectSaving) return Promise.resolve()
      const reason = String(this.data.reason || '').trim()
      if (!reason) {
        this.setData({ rejectError: '请填写驳回原因，业主会在通知中看到' })
        return Promise.resolve()
      }
      this.setData({ rejectSaving: true, rejectError: '' })
      return api.post('/api/v1/staff/bindings/' + item.id + '/reject', { reason }).then(
        () => {
          this.reasonFor = 0
          this.setData({ rejectSaving: false, rejecting: null, reason: '' })
          this.removeItem(item.id)
          toast('已驳回', 'success')
        },
        (err) => {
          // Keep the dialog and the reason; show why it failed.
          const fieldMsg = err.fields && err.fields.reason ? err.fields.reason.join('；') : ''
          this.setData({ rejectSaving: false, rejectError: fieldMsg || err.message })
          if (err.code === 'not_pending') {
            this.removeItem(item.id)
            this.setData({ rejecting: null })
            toast(err.message)
          }
        },
      )
    },

    noop() {},
  },
})
