// One-time subscribe messages (订阅消息).
//
// Template ids differ per mini-program account, so they come from GET /api/v1/me/subscriptions
// (key -> template_id, plus how many messages each template may still send: credits).
// wx.requestSubscribeMessage must run inside a tap (or a showModal confirm), so callers load the
// templates first and call requestAndRecord() straight from the tap handler.

const api = require('./api')

const MAX_PER_CALL = 3 // WeChat's limit on tmplIds per wx.requestSubscribeMessage call

function loadTemplates() {
  return api.get('/api/v1/me/subscriptions').then((list) => list || [])
}

// The templates with these keys, e.g. ['binding_result'].
function pick(templates, keys) {
  return (templates || []).filter((t) => keys.indexOf(t.key) >= 0 && t.template_id)
}

// Ask the user; resolves with the ids whose result is "accept". Call synchronously from a tap.
function ask(tmplIds) {
  const ids = tmplIds.slice(0, MAX_PER_CALL)
  return new Promise((resolve, reject) => {
    if (!ids.length) {
      resolve([])
      return
    }
    wx.requestSubscribeMessage({
      tmplIds: ids,
      success: (res) => resolve(ids.filter((id) => res && res[id] === 'accept')),
      fail: (err) => reject(err || {}),
    })
  })
}

// Ask, then tell the API which templates were accepted (nothing is sent when none were).
function requestAndRecord(tmplIds) {
  return ask(tmplIds).then((accepted) => {
    if (!accepted.length) return accepted
    return api.post('/api/v1/me/subscriptions', { accepted }).then(() => accepted)
  })
}

// A message for a failed wx.requestSubscribeMessage (e.g. notifications turned off in settings).
function failureMessage(err) {
  if (err && err.errCode === 20004) return '您已关闭通知，可在小程序设置中开启'
  if (err && err.message) return err.message
  return '订阅未成功，可稍后在“我的房屋”中再次订阅'
}

// Template ids worth asking for before an action: those with these keys and no credits left.
// Never rejects ([] when the templates cannot be loaded). Load it when the page opens, so that the tap
// handler has the ids at hand.
function idsToAsk(keys) {
  return loadTemplates()
    .then((templates) => pick(templates, keys).filter((t) => !(t.credits > 0)).map((t) => t.template_id))
    .catch(() => [])
}

// Call straight from a tap handler (wx.requestSubscribeMessage runs synchronously here). Resolves with
// the accepted ids, never rejects: a refused or failed subscription must not stop the action.
function askQuietly(ids) {
  if (!ids || !ids.length) return Promise.resolve([])
  let asked
  try {
    asked = requestAndRecord(ids)
  } catch (e) {
    return Promise.resolve([])
  }
  return asked.catch(() => [])
}

module.exports = { loadTemplates, pick, ask, requestAndRecord, failureMessage, idsToAsk, askQuietly, MAX_PER_CALL }
