// Paid services (便民有偿服务): the catalog of the selected house's community, grouped by category.
// Tapping an item opens the booking form. GET /api/v1/catalog needs no login, but booking needs an
// approved house, so the houses come first.
const api = require('../../utils/api')
const config = require('../../config')
const houses = require('../../utils/houses')
const { formatYuan } = require('../../utils/money')
const { toast } = require('../../utils/ui')

// Items -> [{name, items}] in the order categories first appear.
function groupItems(items) {
  const groups = []
  const byName = {}
  ;(items || []).forEach((item) => {
    const name = item.category || '其他'
    if (!byName[name]) {
      byName[name] = { name, items: [] }
      groups.push(byName[name])
    }
    byName[name].items.push(Object.assign({}, item, { price_text: formatYuan(item.price_fen) + '/' + (item.unit || '次') }))
  })
  return groups
}

Component({
  data: {
    loading: true,
    error: '',
    houses: [],
    houseIndex: 0,
    community: null,
    groups: [],
    outOfScope: '',
  },

  methods: {
    onLoad(query) {
      this.wantedHouse = (query && query.house_id) || ''
      return this.load()
    },

    onPullDownRefresh() {
      return this.load().then(() => wx.stopPullDownRefresh())
    },

    load() {
      if (!this.data.groups.length) this.setData({ loading: true, error: '' })
      return houses
        .approvedHouses()
        .then((list) => {
          const index = houses.indexOf(list, this.wantedHouse || (list[this.data.houseIndex] || {}).id)
          this.setData({ houses: list, houseIndex: index })
          return this.loadCatalog()
        })
        .catch((err) => this.showError(err))
    },

    // The catalog of the selected house's community (the default community when there is no house yet,
    // so prices can still be seen).
    loadCatalog() {
      const house = this.data.houses[this.data.houseIndex]
      const code = house ? house.community_code : config.defaultCommunity
      return api
        .get('/api/v1/catalog', { community: code })
        .then((catalog) => {
          const outOfScope = (catalog.out_of_scope || []).join('、')
          this.setData({
            loading: false,
            error: '',
            community: catalog.community || null,
            groups: groupItems(catalog.items),
            outOfScope,
          })
        })
        .catch((err) => this.showError(err))
    },

    showError(err) {
      if (this.data.groups.length) toast(err.message) // keep what is on screen
      else this.setData({ loading: false, error: err.message })
    },

    reload() {
      return this.load()
    },

    onHouseChange(e) {
      const index = Number(e.detail.value) || 0
      const before = this.data.houses[this.data.houseIndex]
      this.setData({ houseIndex: index })
      const after = this.data.houses[index]
      if (before && after && before.community_code === after.community_code) return Promise.resolve()
      this.setData({ groups: [], loading: true })
      return this.loadCatalog()
    },

    onItemTap(e) {
      const house = this.data.houses[this.data.houseIndex]
      if (!house) {
        toast('请先绑定房屋，审核通过后即可预约')
        return
      }
      wx.navigateTo({ url: '/pages/services/book?item_id=' + e.currentTarget.dataset.id + '&house_id=' + house.id })
    },

    goBind() {
      wx.navigateTo({ url: '/pages/houses/bind' })
    },
  },
})
