// Bind a house: form -> POST /api/v1/me/houses. Approved at once when the roster matches,
// otherwise pending review: then offer the "审核结果通知" subscribe message.
const api = require('../../utils/api')
const config = require('../../config')
const subscribe = require('../../utils/subscribe')
const { isPhone } = require('../../utils/format')
const { toast, fieldErrors, decorateMembership } = require('../../utils/ui')

const ROLES = [
  { value: 'owner', label: '业主' },
  { value: 'family', label: '家庭成员' },
  { value: 'tenant', label: '租户' },
]
const FIELDS = ['community_code', 'building', 'unit', 'room', 'name', 'phone', 'role']
const DRAFT_KEY = 'wuye_bind_draft'
const RESULT_TEMPLATE = 'binding_result'

function emptyForm() {
  return {
    community_code: config.defaultCommunity || '',
    building: '',
    unit: '',
    room: '',
    name: '',
    phone: '',
    role: 'owner',
  }
}

// Required fields and the phone pattern, checked before sending (saves a round trip on slow networks).
function validate(form) {
  const errors = {}
  const labels = { community_code: '小区编号', building: '楼栋', unit: '单元', room: '房号', name: '姓名', phone: '手机号' }
  Object.keys(labels).forEach((key) => {
    if (!String(form[key] || '').trim()) errors[key] = '请填写' + labels[key]
  })
  if (!errors.phone && !isPhone(String(form.phone).trim())) errors.phone = '手机号格式有误（11 位手机号）'
  return errors
}

Component({
  data: {
    roles: ROLES,
    roleIndex: 0,
    form: emptyForm(),
    errors: {},
    formError: '',
    phoneVerified: false,
    verifyingPhone: false,
    submitting: false,
    result: null, // the membership after a successful submit
    subscribed: false,
    subscribeAvailable: true,
    subscribing: false,
  },

  methods: {
    onLoad() {
      // Restore what was typed last time (kept when a submit failed or the page was left).
      let draft = null
      try {
        draft = wx.getStorageSync(DRAFT_KEY) || null
      } catch (e) {
        draft = null
      }
      const form = Object.assign(emptyForm(), draft || {})
      const session = api.getSession()
      const user = session && session.user
      if (user && !form.name && user.name) form.name = user.name
      if (user && !form.phone && user.phone) form.phone = user.phone
      const phoneVerified = !!(user && user.phone_verified && user.phone && form.phone === user.phone)
      this.setData({ form, roleIndex: this.roleIndexOf(form.role), phoneVerified })
    },

    roleIndexOf(role) {
      const i = ROLES.findIndex((r) => r.value === role)
      return i < 0 ? 0 : i
    },

    saveDraft() {
      try {
        wx.setStorageSync(DRAFT_KEY, this.data.form)
      } catch (e) {
        // ignore: the form is still on screen
      }
    },

    onInput(e) {
      const field = e.currentTarget.dataset.field
      const value = e.detail.value
      const update = { ['form.' + field]: value }
      if (this.data.errors[field]) update['errors.' + field] = ''
      if (field === 'phone') update.phoneVerified = false
      this.setData(update)
    },

    onRoleChange(e) {
      const index = Number(e.detail.value) || 0
      this.setData({ roleIndex: index, 'form.role': ROLES[index].value, 'errors.role': '' })
    },

    // <button open-type="getPhoneNumber">: exchange the code for the verified number.
    onGetPhoneNumber(e) {
      const detail = (e && e.detail) || {}
      let code = detail.code
      if (config.devPhone) code = 'dev:' + config.devPhone
      if (!code) {
        toast('未获取手机号授权，也可以手动填写')
        return Promise.resolve()
      }
      this.setData({ verifyingPhone: true })
      return api
        .post('/api/v1/me/phone', { code })
        .then((user) => {
          this.setData({ verifyingPhone: false, 'form.phone': user.phone || '', 'errors.phone': '', phoneVerified: !!user.phone_verified })
          toast('手机号已验证', 'success')
        })
        .catch((err) => {
          this.setData({ verifyingPhone: false })
          toast(err.message)
        })
    },

    submit() {
      if (this.data.submitting) return Promise.resolve()
      const form = this.data.form
      const body = {}
      FIELDS.forEach((key) => {
        body[key] = String(form[key] || '').trim()
      })
      const errors = validate(body)
      if (Object.keys(errors).length) {
        this.setData({ errors, formError: '请检查标红的内容' })
        return Promise.resolve()
      }
      this.saveDraft()
      this.setData({ submitting: true, errors: {}, formError: '' })
      return api
        .post('/api/v1/me/houses', body)
        .then((membership) => {
          try {
            wx.removeStorageSync(DRAFT_KEY)
          } catch (e) {
            // ignore
          }
          this.setData({ submitting: false, result: decorateMembership(membership) })
          if (membership.status === 'pending') return this.offerSubscription()
          toast('绑定成功', 'success')
          return null
        })
        .catch((err) => {
          // Keep the form as typed; show the message and the per-field errors.
          const errs = fieldErrors(err)
          const known = {}
          FIELDS.forEach((key) => {
            if (errs[key]) known[key] = errs[key]
          })
          this.setData({ submitting: false, errors: known, formError: err.message })
        })
    },

    // Pending: ask (in a modal, so the confirm tap lets us call wx.requestSubscribeMessage) whether
    // to receive the review result. Skipped when a result message is already subscribed.
    offerSubscription() {
      return subscribe
        .loadTemplates()
        .then((templates) => {
          const wanted = subscribe.pick(templates, [RESULT_TEMPLATE])
          this.templateIds = wanted.map((t) => t.template_id)
          if (!wanted.length) {
            this.setData({ subscribeAvailable: false }) // the account has no such template
            return null
          }
          if (wanted.every((t) => t.credits > 0)) {
            this.setData({ subscribed: true })
            return null
          }
          return this.askInModal()
        })
        .catch(() => {
          // Loading the templates failed: the button on the result panel still lets the user try.
          this.templateIds = this.templateIds || []
        })
    },

    // wx.requestSubscribeMessage is called right inside showModal's success callback: WeChat only
    // allows it in direct response to a tap, and a promise hop could lose that.
    askInModal() {
      return new Promise((resolve) => {
        wx.showModal({
          title: '接收审核结果通知',
          content: '物业审核后，将通过微信服务通知告诉您结果。是否接收？',
          confirmText: '接收',
          cancelText: '暂不',
          success: (res) => resolve(res && res.confirm ? this.doSubscribe() : null),
          fail: () => resolve(null),
        })
      })
    },

    // Tap on "接收审核结果通知" (or the modal's confirm).
    onSubscribeTap() {
      return this.doSubscribe()
    },

    doSubscribe() {
      const ids = this.templateIds || []
      if (!ids.length) {
        // Templates not loaded yet (network): load them; the user taps again afterwards.
        return subscribe
          .loadTemplates()
          .then((templates) => {
            this.templateIds = subscribe.pick(templates, [RESULT_TEMPLATE]).map((t) => t.template_id)
            toast(this.templateIds.length ? '请再点一次“接收审核结果通知”' : '暂无可订阅的通知')
          })
          .catch((err) => toast(err.message))
      }
      this.setData({ subscribing: true })
      return subscribe
        .requestAndRecord(ids)
        .then((accepted) => {
          this.setData({ subscribing: false, subscribed: accepted.length > 0 })
          toast(accepted.length ? '已订阅，审核后通知您' : '未订阅，可在“我的房屋”查看审核进度')
        })
        .catch((err) => {
          this.setData({ subscribing: false })
          toast(subscribe.failureMessage(err))
        })
    },

    goHouses() {
      const id = this.data.result ? this.data.result.id : ''
      wx.redirectTo({ url: '/pages/houses/index' + (id ? '?id=' + id : '') })
    },

    goHome() {
      wx.reLaunch({ url: '/pages/index/index' })
    },

    bindAnother() {
      const form = emptyForm()
      const keep = this.data.form
      form.community_code = keep.community_code
      form.name = keep.name
      form.phone = keep.phone
      this.setData({ result: null, form, roleIndex: 0, errors: {}, formError: '', subscribed: false, subscribeAvailable: true })
    },
  },
})
