// My houses for forms: GET /api/v1/me/houses, approved memberships only (orders need an approved house).

const api = require('./api')
const { toast } = require('./ui')

// [{id (house id), label, community_code, community_name, text}], in the API's order.
function approvedHouses() {
  return api.get('/api/v1/me/houses').then((list) =>
    (list || [])
      .filter((m) => m.status === 'approved' && m.house)
      .map((m) => {
        const house = m.house
        const community = house.community || {}
        return {
          id: house.id,
          label: house.label || '',
          community_code: community.code || '',
          community_name: community.name || '',
          text: (community.name ? community.name + ' ' : '') + (house.label || ''),
        }
      }),
  )
}

// Index of the house with this id, else 0.
function indexOf(houses, id) {
  const i = houses.findIndex((h) => String(h.id) === String(id))
  return i < 0 ? 0 : i
}

// Page methods shared by forms that pick a house and then a category from that house's community
// catalog (`catalogKey`: "repair_categories" or "complaint_categories"). The page defines
// selectCategory(index) and keeps houses, houseIndex, categories, categoryIndex, loading, error, noHouse.
function categoryFormMethods(catalogKey) {
  return {
    load() {
      this.setData({ loading: true, error: '', noHouse: false })
      return approvedHouses()
        .then((list) => {
          if (!list.length) {
            this.setData({ loading: false, noHouse: true })
            return null
          }
          this.setData({ houses: list, houseIndex: indexOf(list, this.houseId) })
          return this.loadCategories()
        })
        .catch((err) => this.setData({ loading: false, error: err.message }))
    },

    // The categories come with the catalog of the house's community.
    loadCategories() {
      const house = this.data.houses[this.data.houseIndex]
      return api.get('/api/v1/catalog', { community: house.community_code }).then((catalog) => {
        const categories = catalog[catalogKey] || []
        const previous = this.data.categories[this.data.categoryIndex]
        const index = previous ? categories.findIndex((c) => c.key === previous.key) : -1
        this.categoriesOf = house.community_code
        this.setData({ loading: false, error: '', categories })
        this.selectCategory(index)
      })
    },

    reload() {
      return this.load()
    },

    onHouseChange(e) {
      this.setData({ houseIndex: Number(e.detail.value) || 0, 'errors.house_id': '' })
      const house = this.data.houses[this.data.houseIndex]
      if (house.community_code === this.categoriesOf) return Promise.resolve()
      return this.loadCategories().catch((err) => toast(err.message))
    },
  }
}

module.exports = { approvedHouses, indexOf, categoryFormMethods }
