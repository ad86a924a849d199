// One task of mine (worker): GET /api/v1/staff/tasks/{id}, with the owner's contact. Opened from the list
// and from the "新工单提醒" staff message (pages/staff/tasks/detail?id=).
// 接单 (optional appointment time) / 拒单 (reason) / 到场 / 暂停 (reason) / 继续 / 完工 (notes, photos,
// materials with decimal quantities, "业主已现场签字"). A 409 means the task moved on: message + reload.
const api = require('../../../utils/api')
const { decorate, workerActions } = require('../../../utils/orders')
const { formatYuan, lineAmountFen, toHundredths } = require('../../../utils/money')
const { photoMethods, loadRemotePhotos, MAX_PHOTOS } = require('../../../utils/upload')
const { toast, confirm, whenData, whenMethods, reasonDialogMethods } = require('../../../utils/ui')

const MAX_QUANTITY_HUNDREDTHS = 999900 // 9999.00

const DIALOGS = {
  decline: {
    title: '拒单',
    placeholder: '请说明原因（必填），工单将改派给其他同事',
    required: true,
    missing: '请填写拒单原因',
    confirmText: '确认拒单',
    danger: true,
  },
  pause: {
    title: '暂停',
    placeholder: '暂停原因（必填），如：等待材料',
    required: true,
    missing: '请填写暂停原因',
    confirmText: '暂停',
    danger: false,
  },
}

function emptyCompletion() {
  return { notes: '', lines: [], ownerSigned: false, errors: {}, error: '' }
}

Component({
  data: {
    loading: true,
    error: '',
    gone: '', // declined: the task is no longer mine
    order: null,
    actions: {},
    notice: '',
    busy: '',
    orderPhotos: [],

    dialog: null,
    reason: '',
    dialogError: '',
    dialogSaving: false,

    // accept
    accepting: false,
    when: whenData(),
    errors: {},
    acceptSaving: false,

    // complete
    completing: false,
    completion: emptyCompletion(),
    materials: [], // the price list
    materialsLoading: false,
    materialsError: '',
    materialsTotal: '',
    finalEstimate: '',
    photos: [],
    maxPhotos: MAX_PHOTOS,
    photoError: '',
    completeSaving: false,
  },

  methods: Object.assign({}, photoMethods, whenMethods, reasonDialogMethods, {
    onLoad(query) {
      this.orderId = Number((query && query.id) || 0)
      this.dialogs = DIALOGS
      return this.load()
    },

    onPullDownRefresh() {
      return this.load().then(() => wx.stopPullDownRefresh())
    },

    load() {
      if (!this.orderId) {
        this.setData({ loading: false, error: '未找到该任务' })
        return Promise.resolve()
      }
      if (!this.data.order) this.setData({ loading: true, error: '' })
      return api
        .get('/api/v1/staff/tasks/' + this.orderId)
        .then((order) => this.show(order))
        .catch((err) => {
          if (this.data.order && err.status !== 404) toast(err.message)
          else this.setData({ loading: false, order: null, error: err.message })
        })
    },

    reload() {
      return this.load()
    },

    show(order) {
      const before = this.data.order
      this.setData({ loading: false, error: '', order: decorate(order), actions: workerActions(order) })
      this.updateTotals()
      if (!before || JSON.stringify(before.photos) !== JSON.stringify(order.photos)) {
        return loadRemotePhotos(this, 'orderPhotos', order.photos)
      }
      return null
    },

    actionFailed(err) {
      if (err && err.status === 409) {
        this.setData({ notice: err.message })
        return this.load()
      }
      toast(err.message)
      return null
    },

    post(path, body) {
      return api.post('/api/v1/staff/tasks/' + this.orderId + path, body)
    },

    run(name, path, body, message) {
      if (this.data.busy) return Promise.resolve()
      this.setData({ busy: name, notice: '' })
      return this.post(path, body).then(
        (order) => {
          this.setData({ busy: '' })
          this.show(order)
          toast(message, 'success')
        },
        (err) => {
          this.setData({ busy: '' })
          return this.actionFailed(err)
        },
      )
    },

    onCall() {
      const phone = this.data.order && this.data.order.contact_phone
      if (phone) wx.makePhoneCall({ phoneNumber: phone, fail: () => {} })
    },

    onPreview(e) {
      const urls = this.data.orderPhotos.filter((p) => p.status === 'ok').map((p) => p.path)
      if (urls.length) wx.previewImage({ urls, current: e.currentTarget.dataset.path })
    },

    // -- accept -------------------------------------------------------------------------------

    openAccept() {
      this.setData({ accepting: true, errors: {} })
    },

    closeAccept() {
      if (!this.data.acceptSaving) this.setData({ accepting: false })
    },

    confirmAccept() {
      if (this.data.acceptSaving) return Promise.resolve()
      const when = this.whenValue()
      if (when.error) {
        this.setData({ 'errors.preferred_time': when.error })
        return Promise.resolve()
      }
      this.setData({ acceptSaving: true, errors: {}, notice: '' })
      return this.post('/accept', { appointment_at: when.iso }).then(
        (order) => {
          this.setData({ acceptSaving: false, accepting: false })
          this.show(order)
          toast('已接单', 'success')
        },
        (err) => {
          const fields = err.fields || {}
          const msg = fields.appointment_at ? [].concat(fields.appointment_at).join('；') : err.message
          this.setData({ acceptSaving: false, 'errors.preferred_time': msg })
          if (err.status === 409) {
            this.setData({ accepting: false })
            this.actionFailed(err)
          }
        },
      )
    },

    // -- simple steps -------------------------------------------------------------------------

    onArrive() {
      if (this.data.busy) return Promise.resolve()
      return confirm({ title: '到场', content: '确认已到达现场？业主会收到通知。', confirmText: '已到场' }).then((ok) =>
        ok ? this.run('arrive', '/arrive', {}, '已到场') : null,
      )
    },

    onResume() {
      return this.run('resume', '/resume', {}, '已继续')
    },

    submitDialog(kind, reason) {
      return this.post('/' + kind, { reason }).then(
        (order) => {
          if (kind === 'decline') {
            // No longer my task: the server re-dispatches it.
            this.setData({ gone: '已拒单，工单将改派给其他同事', order: null })
            toast('已拒单', 'success')
            return
          }
          this.show(order)
          toast('已暂停', 'success')
        },
        (err) => {
          if (err.status === 409) this.actionFailed(err)
          throw err
        },
      )
    },

    goList() {
      wx.navigateBack({ fail: () => wx.redirectTo({ url: '/pages/staff/tasks/index' }) })
    },

    // -- complete -----------------------------------------------------------------------------

    openComplete() {
      this.setData({ completing: true })
      if (!this.data.materials.length) return this.loadMaterials()
      return Promise.resolve()
    },

    closeComplete() {
      if (!this.data.completeSaving) this.setData({ completing: false }) // what was typed stays
    },

    loadMaterials() {
      this.setData({ materialsLoading: true, materialsError: '' })
      return api
        .get('/api/v1/staff/catalog/materials')
        .then((list) => {
          const materials = (list || [])
            .filter((m) => m.active !== false)
            .map((m) => Object.assign({}, m, { text: m.name + '（' + formatYuan(m.price_fen) + '/' + m.unit + '）' }))
          this.setData({ materialsLoading: false, materials })
        })
        .catch((err) => this.setData({ materialsLoading: false, materialsError: err.message }))
    },

    onNotesInput(e) {
      this.setData({ 'completion.notes': e.detail.value, 'completion.errors.notes': '' })
    },

    onSignedChange(e) {
      this.setData({ 'completion.ownerSigned': !!e.detail.value })
    },

    onMaterialPick(e) {
      const material = this.data.materials[Number(e.detail.value)]
      if (!material) return
      const lines = this.data.completion.lines
      if (lines.some((l) => l.material_id === material.id)) {
        toast('已添加该材料，请修改数量')
        return
      }
      this.lineSeq = (this.lineSeq || 0) + 1
      const line = {
        key: 'l' + this.lineSeq,
        material_id: material.id,
        name: material.name,
        unit: material.unit,
        price_fen: material.price_fen,
        price_text: formatYuan(material.price_fen) + '/' + material.unit,
        quantity: '1',
        amount_text: '',
        error: '',
      }
      this.setData({ 'completion.lines': lines.concat([line]) })
      this.updateTotals()
    },

    onLineQuantity(e) {
      const index = this.data.completion.lines.findIndex((l) => l.key === e.currentTarget.dataset.key)
      if (index < 0) return
      this.setData({
        ['completion.lines[' + index + '].quantity']: e.detail.value,
        ['completion.lines[' + index + '].error']: '',
      })
      this.updateTotals()
    },

    onLineRemove(e) {
      const key = e.currentTarget.dataset.key
      this.setData({ 'completion.lines': this.data.completion.lines.filter((l) => l.key !== key) })
      this.updateTotals()
    },

    // Line amounts and the total, computed like the server (price x quantity, rounded half up to the fen).
    updateTotals() {
      const lines = this.data.completion.lines
      let total = 0
      let valid = true
      const update = {}
      lines.forEach((line, i) => {
        const amount = lineAmountFen(line.price_fen, line.quantity)
        if (isNaN(amount) || toHundredths(line.quantity) <= 0) valid = false
        else total += amount
        update['completion.lines[' + i + '].amount_text'] = isNaN(amount) ? '' : formatYuan(amount)
      })
      const order = this.data.order
      update.materialsTotal = lines.length ? (valid ? formatYuan(total) : '') : formatYuan(0)
      update.finalEstimate = order && order.quote_fen !== null && order.quote_fen !== undefined && valid
        ? formatYuan(order.quote_fen + total)
        : ''
      this.setData(update)
    },

    submitComplete() {
      if (this.data.completeSaving) return Promise.resolve()
      const c = this.data.completion
      const update = {}
      let bad = false
      c.lines.forEach((line, i) => {
        const q = toHundredths(line.quantity)
        let msg = ''
        if (isNaN(q)) msg = '请填写数量，最多两位小数'
        else if (q <= 0) msg = '数量须大于 0'
        else if (q > MAX_QUANTITY_HUNDREDTHS) msg = '数量不能超过 9999'
        if (msg) {
          bad = true
          update['completion.lines[' + i + '].error'] = msg
        }
      })
      const photoProblem = this.photoProblem()
      if (photoProblem) update['completion.errors.photos'] = photoProblem
      if (bad || photoProblem) {
        update['completion.error'] = photoProblem || '请检查材料数量'
        this.setData(update)
        return Promise.resolve()
      }
      const body = {
        notes: String(c.notes || '').trim(),
        photos: this.uploadedPhotoIds(),
        materials: c.lines.map((l) => ({ material_id: l.material_id, quantity: toHundredths(l.quantity) / 100 })),
        owner_signed: !!c.ownerSigned,
      }
      this.setData({ completeSaving: true, 'completion.error': '', 'completion.errors': {}, notice: '' })
      return this.post('/complete', body).then(
        (order) => {
          this.setData({ completeSaving: false, completing: false, completion: emptyCompletion(), photos: [] })
          this.show(order)
          toast(order.status === 'confirmed' ? '已完工，业主已签字确认' : '已完工，等待业主确认', 'success')
        },
        (err) => {
          // Keep everything; put per-line errors ("materials.0.quantity") next to the lines.
          const fields = err.fields || {}
          const errs = {}
          const lineUpdate = {}
          Object.keys(fields).forEach((key) => {
            const text = [].concat(fields[key]).join('；')
            const m = /^materials\.(\d+)\./.exec(key)
            if (m && this.data.completion.lines[Number(m[1])]) lineUpdate['completion.lines[' + m[1] + '].error'] = text
            else errs[key.split('.')[0]] = text
          })
          this.setData(Object.assign({ completeSaving: false, 'completion.error': err.message, 'completion.errors': errs }, lineUpdate))
          if (err.status === 409) this.actionFailed(err)
        },
      )
    },
  }),
})
