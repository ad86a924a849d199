// Small UI helpers shared by pages.

const { formatTime } = require('./format')

function toast(title, icon) {
  wx.showToast({ title, icon: icon || 'none', duration: 2000 })
}

// wx.showModal as a promise: resolves true when the user confirms.
function confirm(options) {
  return new Promise((resolve) => {
    wx.showModal({
      title: options.title || '提示',
      content: options.content || '',
      confirmText: options.confirmText || '确定',
      cancelText: options.cancelText || '取消',
      confirmColor: options.danger ? '#e54d42' : '#1aad19',
      success: (res) => resolve(!!(res && res.confirm)),
      fail: () => resolve(false),
    })
  })
}

// Per-field messages from an ApiError ({field: [messages]}) -> {field: "first message"}.
function fieldErrors(err) {
  const out = {}
  const fields = (err && err.fields) || {}
  Object.keys(fields).forEach((key) => {
    const list = fields[key]
    out[key] = Array.isArray(list) ? list.join('；') : String(list)
  })
  return out
}

// A membership (or binding) with the texts the templates show.
function decorateMembership(m) {
  const house = m.house || {}
  return Object.assign({}, m, {
    label: house.label || '',
    community_name: (house.community && house.community.name) || '',
    created_text: formatTime(m.created_at),
    reviewed_text: formatTime(m.reviewed_at),
  })
}

module.exports = { toast, confirm, fieldErrors, decorateMembership }

// -- shared page pieces ---------------------------------------------------------------------------

const { chinaDate, toIso, parseTime } = require('./format')

// Preferred time (date picker + time picker -> ISO 8601 with +08:00). Pages keep data.when = whenData()
// and mix whenMethods into their methods; field errors go to errors.preferred_time.
function whenData() {
  return { date: '', time: '', start: chinaDate(0), end: chinaDate(30) }
}

const whenMethods = {
  onWhenDate(e) {
    this.setData({ 'when.date': e.detail.value, 'errors.preferred_time': '' })
  },
  onWhenTime(e) {
    this.setData({ 'when.time': e.detail.value, 'errors.preferred_time': '' })
  },
  onWhenClear() {
    this.setData({ 'when.date': '', 'when.time': '', 'errors.preferred_time': '' })
  },
  // {iso} (null when nothing was picked) or {error}.
  whenValue() {
    const w = this.data.when || {}
    if (!w.date && !w.time) return { iso: null }
    if (!w.date) return { error: '请选择日期' }
    if (!w.time) return { error: '请选择时间' }
    const iso = toIso(w.date, w.time)
    if (parseTime(iso) < Date.now()) return { error: '时间不能早于现在' }
    return { iso }
  },
}

// A dialog asking for a reason (cancel, rework, decline, pause...). The text typed for each kind stays
// when the dialog is closed or sending fails. Pages define dialogs: {kind: {title, placeholder, required,
// confirmText, missing}} and submitDialog(kind, reason) returning a promise that rejects with an ApiError
// to keep the dialog open.
const reasonDialogMethods = {
  openDialog(e) {
    const kind = typeof e === 'string' ? e : e.currentTarget.dataset.kind
    const spec = this.dialogs[kind]
    this.reasons = this.reasons || {}
    this.setData({
      dialog: Object.assign({ kind }, spec),
      reason: this.reasons[kind] || '',
      dialogError: '',
    })
  },
  onReasonInput(e) {
    const kind = this.data.dialog && this.data.dialog.kind
    this.reasons = this.reasons || {}
    if (kind) this.reasons[kind] = e.detail.value
    this.setData({ reason: e.detail.value, dialogError: '' })
  },
  closeDialog() {
    if (this.data.dialogSaving) return
    this.setData({ dialog: null, dialogError: '' })
  },
  confirmDialog() {
    const dialog = this.data.dialog
    if (!dialog || this.data.dialogSaving) return Promise.resolve()
    const reason = String(this.data.reason || '').trim()
    if (dialog.required && !reason) {
      this.setData({ dialogError: dialog.missing || '请填写原因' })
      return Promise.resolve()
    }
    this.setData({ dialogSaving: true, dialogError: '' })
    return this.submitDialog(dialog.kind, reason).then(
      () => {
        this.reasons[dialog.kind] = ''
        this.setData({ dialogSaving: false, dialog: null, reason: '' })
      },
      (err) => {
        const fields = (err && err.fields) || {}
        const msg = fields.reason ? [].concat(fields.reason).join('；') : err.message
        this.setData({ dialogSaving: false, dialogError: msg })
        if (err && err.status === 409) {
          // The order moved on: the dialog no longer fits it.
          this.setData({ dialog: null })
        }
      },
    )
  },
  noop() {},
}

Object.assign(module.exports, { whenData, whenMethods, reasonDialogMethods })
