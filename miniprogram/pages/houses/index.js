// My houses: statuses, unbind, members (approved owners). Opened from the binding-result subscribe
// message as pages/houses/index?id=<membership id>: that membership is highlighted.
const api = require('../../utils/api')
const subscribe = require('../../utils/subscribe')
const { toast, confirm, decorateMembership } = require('../../utils/ui')

const RESULT_TEMPLATE = 'binding_result'

Component({
  data: {
    loading: true,
    error: '',
    houses: [],
    highlightId: 0,
    notice: '',
    canSubscribe: false, // a pending binding and no "审核结果通知" left to send
    subscribing: false,
  },

  methods: {
    onLoad(query) {
      const id = Number((query && query.id) || 0)
      this.setData({ highlightId: id > 0 ? id : 0 })
    },

    onShow() {
      this.load()
    },

    onPullDownRefresh() {
      this.load().then(() => wx.stopPullDownRefresh())
    },

    load() {
      const first = !this.data.houses.length
      if (first) this.setData({ loading: true, error: '' })
      return api
        .get('/api/v1/me/houses')
        .then((list) => {
          const houses = (list || []).map(decorateMembership)
          const id = this.data.highlightId
          const found = !id || houses.some((h) => h.id === id)
          this.setData({
            loading: false,
            error: '',
            houses,
            notice: found ? '' : '该房屋绑定已解除或不存在',
          })
          if (id && found) this.scrollToHighlight()
          this.checkSubscription(houses)
        })
        .catch((err) => {
          if (first) this.setData({ loading: false, error: err.message })
          else toast(err.message)
        })
    },

    scrollToHighlight() {
      if (wx.pageScrollTo) wx.pageScrollTo({ selector: '#m-' + this.data.highlightId, duration: 200, fail: () => {} })
    },

    // Only when something is pending: is a "审核结果通知" still available to send?
    checkSubscription(houses) {
      if (!houses.some((h) => h.status === 'pending')) {
        this.templateIds = []
        if (this.data.canSubscribe) this.setData({ canSubscribe: false })
        return null
      }
      return subscribe
        .loadTemplates()
        .then((templates) => {
          const wanted = subscribe.pick(templates, [RESULT_TEMPLATE])
          this.templateIds = wanted.map((t) => t.template_id)
          this.setData({ canSubscribe: wanted.length > 0 && wanted.some((t) => !(t.credits > 0)) })
        })
        .catch(() => {
          // Optional feature: stay quiet.
        })
    },

    onSubscribeTap() {
      this.setData({ subscribing: true })
      return subscribe
        .requestAndRecord(this.templateIds || [])
        .then((accepted) => {
          this.setData({ subscribing: false, canSubscribe: accepted.length === 0 })
          toast(accepted.length ? '已订阅，审核后通知您' : '未订阅')
        })
        .catch((err) => {
          this.setData({ subscribing: false })
          toast(subscribe.failureMessage(err))
        })
    },

    onUnbind(e) {
      const id = Number(e.currentTarget.dataset.id)
      const house = this.data.houses.find((h) => h.id === id)
      if (!house) return Promise.resolve()
      const texts = {
        pending: ['撤回申请', '撤回 ' + house.label + ' 的绑定申请？', '撤回', '已撤回'],
        rejected: ['删除记录', '删除 ' + house.label + ' 未通过的申请记录？', '删除', '已删除'],
      }[house.status] || ['解绑房屋', '解绑后将不能再以' + house.role_label + '身份使用 ' + house.label + ' 的物业服务。', '解绑', '已解绑']
      return confirm({ title: texts[0], content: texts[1], confirmText: texts[2], danger: true })
        .then((ok) => {
          if (!ok) return null
          wx.showLoading({ title: '请稍候', mask: true })
          return api.del('/api/v1/me/houses/' + id).then(
            () => {
              wx.hideLoading()
              this.setData({ houses: this.data.houses.filter((h) => h.id !== id) })
              toast(texts[3], 'success')
            },
            (err) => {
              wx.hideLoading()
              toast(err.message)
            },
          )
        })
    },

    openMembers(e) {
      const id = e.currentTarget.dataset.id
      const house = this.data.houses.find((h) => h.id === Number(id))
      const label = house ? encodeURIComponent(house.label) : ''
      wx.navigateTo({ url: '/pages/houses/members?id=' + id + '&label=' + label })
    },

    goBind() {
      wx.navigateTo({ url: '/pages/houses/bind' })
    },

    reload() {
      this.load()
    },
  },
})
