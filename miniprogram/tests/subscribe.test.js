const { setup, flush } = require('./helpers/env')
const subscribe = require('../utils/subscribe')

let fake
let wxState

beforeEach(() => {
  ;({ fake, wx: wxState } = setup())
  fake.on('POST', '/api/v1/me/subscriptions', () => [])
})

test('records only the accepted template ids', async () => {
  wxState.subscribeResult = () => ({ a: 'accept', b: 'reject', c: 'ban' })
  const accepted = await subscribe.requestAndRecord(['a', 'b', 'c'])
  expect(accepted).toEqual(['a'])
  expect(fake.callsTo('POST', '/api/v1/me/subscriptions').map((c) => c.body)).toEqual([{ accepted: ['a'] }])
})

test('asks for at most 3 templates at a time', async () => {
  await subscribe.requestAndRecord(['a', 'b', 'c', 'd'])
  expect(wxState.subscribeRequests).toEqual([['a', 'b', 'c']])
})

test('nothing accepted: nothing recorded', async () => {
  wxState.subscribeResult = () => ({ a: 'reject' })
  await expect(subscribe.requestAndRecord(['a'])).resolves.toEqual([])
  await flush()
  expect(fake.calls).toHaveLength(0)
})

test('a failed request is reported with a readable message', async () => {
  wxState.subscribeError = { errCode: 20004, errMsg: 'requestSubscribeMessage:fail' }
  const err = await subscribe.requestAndRecord(['a']).catch((e) => e)
  expect(subscribe.failureMessage(err)).toBe('您已关闭通知，可在小程序设置中开启')
})

test('pick selects templates by key', () => {
  const list = [{ key: 'binding_result', template_id: 't1' }, { key: 'other', template_id: 't2' }, { key: 'binding_result', template_id: '' }]
  expect(subscribe.pick(list, ['binding_result'])).toEqual([{ key: 'binding_result', template_id: 't1' }])
})

describe('before an action', () => {
  test('idsToAsk: only templates without credits; [] when they cannot be loaded', async () => {
    const { fake } = setup()
    fake.on('GET', '/api/v1/me/subscriptions', () => [
      { key: 'order_status', template_id: 'tpl-order-status', credits: 0 },
      { key: 'binding_result', template_id: 'tpl-binding-result', credits: 0 },
    ])
    expect(await subscribe.idsToAsk(['order_status'])).toEqual(['tpl-order-status'])
    fake.on('GET', '/api/v1/me/subscriptions', () => [{ key: 'order_status', template_id: 'tpl-order-status', credits: 1 }])
    expect(await subscribe.idsToAsk(['order_status'])).toEqual([])
    fake.offline = true
    expect(await subscribe.idsToAsk(['order_status'])).toEqual([])
  })

  test('askQuietly asks at once, and never rejects', async () => {
    const { wx: wxState } = setup()
    wxState.subscribeError = { errCode: 20004, errMsg: 'requestSubscribeMessage:fail' }
    const asked = subscribe.askQuietly(['tpl-order-status'])
    expect(wxState.subscribeRequests).toEqual([['tpl-order-status']])
    expect(await asked).toEqual([])
    expect(await subscribe.askQuietly([])).toEqual([])
    expect(wxState.subscribeRequests).toHaveLength(1)
  })
})
