// Home: my houses, service entries, and the staff workbench for staff members.
const api = require('../../utils/api')
const { toast, decorateMembership } = require('../../utils/ui')

Component({
  data: {
    loading: true,
    error: '',
    user: null,
    staff: null,
    houses: [],
    services: [
      { key: 'repair', name: '报修' },
      { key: 'billing', name: '缴费' },
      { key: 'complaint', name: '投诉' },
    ],
  },

  methods: {
    onLoad() {
      this.loaded = false
    },

    onShow() {
      this.load()
    },

    onPullDownRefresh() {
      this.load().then(() => wx.stopPullDownRefresh())
    },

    // First show: the launch login already carries user/houses/staff. Later shows: GET /me.
    load() {
      const hadData = this.loaded
      if (!hadData) this.setData({ loading: true, error: '' })
      const next = hadData ? api.loadMe() : api.ensureLogin()
      return next
        .then((session) => {
          this.loaded = true
          this.setData({
            loading: false,
            error: '',
            user: session.user || null,
            staff: session.staff || null,
            houses: (session.houses || []).map(decorateMembership),
          })
        })
        .catch((err) => {
          if (hadData) {
            toast(err.message) // keep what is on screen
          } else {
            this.setData({ loading: false, error: err.message })
          }
        })
    },

    reload() {
      this.load()
    },

    goBind() {
      wx.navigateTo({ url: '/pages/houses/bind' })
    },

    goHouses() {
      wx.navigateTo({ url: '/pages/houses/index' })
    },

    openHouse(e) {
      wx.navigateTo({ url: '/pages/houses/index?id=' + e.currentTarget.dataset.id })
    },

    goStaff() {
      wx.navigateTo({ url: '/pages/staff/bindings/index' })
    },

    comingSoon(e) {
      toast(e.currentTarget.dataset.name + '即将上线')
    },
  },
})
