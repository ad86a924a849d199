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
