// Members of a house (approved owners only): bound members, registered family/tenants who have not
// bound yet, and a form to register one (their own binding with this name and phone is then approved).
const api = require('../../utils/api')
const { isPhone, maskPhone } = require('../../utils/format')
const { toast, confirm, fieldErrors } = require('../../utils/ui')

const ROLES = [
  { value: 'family', label: '家庭成员' },
  { value: 'tenant', label: '租户' },
]

function emptyForm() {
  return { name: '', phone: '', role: 'family' }
}

Component({
  data: {
    membershipId: 0,
    label: '',
    loading: true,
    error: '',
    members: [],
    invited: [],
    roles: ROLES,
    roleIndex: 0,
    form: emptyForm(),
    errors: {},
    formError: '',
    submitting: false,
  },

  methods: {
    onLoad(query) {
      const q = query || {}
      const label = q.label ? decodeURIComponent(q.label) : ''
      this.setData({ membershipId: Number(q.id) || 0, label })
      if (label && wx.setNavigationBarTitle) wx.setNavigationBarTitle({ title: label })
      return this.load()
    },

    onPullDownRefresh() {
      this.load().then(() => wx.stopPullDownRefresh())
    },

    base() {
      return '/api/v1/me/houses/' + this.data.membershipId
    },

    load() {
      const first = !this.loaded
      if (first) this.setData({ loading: true, error: '' })
      return api
        .get(this.base() + '/members')
        .then((res) => {
          this.loaded = true
          this.setData({
            loading: false,
            error: '',
            members: (res.members || []).map((m) => Object.assign({}, m, { phone: maskPhone(m.phone) })),
            invited: (res.invited || []).map((m) => Object.assign({}, m, { phone: maskPhone(m.phone) })),
          })
        })
        .catch((err) => {
          if (first) this.setData({ loading: false, error: err.message })
          else toast(err.message)
        })
    },

    reload() {
      this.load()
    },

    onInput(e) {
      const field = e.currentTarget.dataset.field
      const update = { ['form.' + field]: e.detail.value }
      if (this.data.errors[field]) update['errors.' + field] = ''
      this.setData(update)
    },

    onRoleChange(e) {
      const index = Number(e.detail.value) || 0
      this.setData({ roleIndex: index, 'form.role': ROLES[index].value })
    },

    add() {
      if (this.data.submitting) return Promise.resolve()
      const form = this.data.form
      const body = { name: String(form.name || '').trim(), phone: String(form.phone || '').trim(), role: form.role }
      const errors = {}
      if (!body.name) errors.name = '请填写姓名'
      if (!body.phone) errors.phone = '请填写手机号'
      else if (!isPhone(body.phone)) errors.phone = '手机号格式有误（11 位手机号）'
      if (Object.keys(errors).length) {
        this.setData({ errors, formError: '' })
        return Promise.resolve()
      }
      this.setData({ submitting: true, errors: {}, formError: '' })
      return api
        .post(this.base() + '/members', body)
        .then(() => {
          this.setData({ submitting: false, form: emptyForm(), roleIndex: 0 })
          toast('已登记，对方绑定时将自动通过')
          return this.load()
        })
        .catch((err) => {
          this.setData({ submitting: false, errors: fieldErrors(err), formError: err.message })
        })
    },

    removeMember(e) {
      const id = Number(e.currentTarget.dataset.id)
      const member = this.data.members.find((m) => m.id === id)
      if (!member) return Promise.resolve()
      return confirm({
        title: '移除成员',
        content: '移除' + member.role_label + ' ' + member.name + ' 后，对方将不能再使用本房屋的物业服务。',
        confirmText: '移除',
        danger: true,
      }).then((ok) => {
        if (!ok) return null
        return api.del(this.base() + '/members/' + id).then(
          () => {
            this.setData({ members: this.data.members.filter((m) => m.id !== id) })
            toast('已移除', 'success')
          },
          (err) => toast(err.message),
        )
      })
    },

    removeInvitation(e) {
      const id = Number(e.currentTarget.dataset.id)
      const entry = this.data.invited.find((m) => m.id === id)
      if (!entry) return Promise.resolve()
      return confirm({
        title: '撤销登记',
        content: '撤销 ' + entry.name + ' 的登记？对方绑定时将需要物业审核。',
        confirmText: '撤销',
        danger: true,
      }).then((ok) => {
        if (!ok) return null
        return api.del(this.base() + '/invitations/' + id).then(
          () => {
            this.setData({ invited: this.data.invited.filter((m) => m.id !== id) })
            toast('已撤销', 'success')
          },
          (err) => toast(err.message),
        )
      })
    },
  },
})
