// My houses for forms: GET /api/v1/me/houses, approved memberships only (orders need an approved house).

const api = require('./api')

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

module.exports = { approvedHouses, indexOf }
