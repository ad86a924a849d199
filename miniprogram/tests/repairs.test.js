const { setup, flush, loadPage, text, exists, all, tap, input, fire, membership, envelope } = require('./helpers/env')
const { order, catalog, SUBS } = require('./helpers/orders')

let fake
let wxState

beforeEach(() => {
  ;({ fake, wx: wxState } = setup())
  fake.on('GET', '/api/v1/me/houses', () => [membership(1), membership(2)])
  fake.on('GET', '/api/v1/catalog', () => catalog())
  fake.on('GET', '/api/v1/me/subscriptions', () => SUBS(0))
  fake.on('POST', '/api/v1/me/subscriptions', () => SUBS(1))
  fake.on('POST', '/api/v1/work-orders', () => ({ status: 201, body: order(12) }))
})

async function open(query) {
  const page = loadPage('pages/repairs/new')
  page.instance.onLoad(query || {})
  await flush()
  return page
}

async function fill(page) {
  await fire(page, '#category', 'change', { value: 0 }) // 给排水
  await input(page, '#description', '厨房水槽下水管漏水')
}

async function addPhotos(page, paths) {
  wxState.mediaQueue.push(paths)
  await tap(page, '#add-photo')
  await flush(30)
}

const orderCalls = () => fake.callsTo('POST', '/api/v1/work-orders')
const photoStates = (page) => page.instance.data.photos.map((p) => p.status)

test('two photos are uploaded one after the other, then the report is sent with their ids', async () => {
  const seenAtUpload = []
  let n = 0
  fake.on('POST', '/api/v1/uploads', () => {
    seenAtUpload.push(wxState.uploads.length) // how many wx.uploadFile calls had started by now
    n += 1
    return { status: 201, body: { id: 700 + n, content_type: 'image/jpeg', size: 10, url: '/api/v1/uploads/' + (700 + n) } }
  })
  const page = await open({ house_id: '2' })
  expect(page.instance.data.houseIndex).toBe(1)
  await fill(page)
  await addPhotos(page, ['wxfile://tmp/a.jpg', 'wxfile://tmp/b.jpg'])

  expect(wxState.chooseCalls[0]).toMatchObject({ count: 9, mediaType: ['image'], sizeType: ['compressed'] })
  expect(wxState.uploads.map((u) => [u.filePath, u.name, u.auth])).toEqual([
    ['wxfile://tmp/a.jpg', 'file', 'Bearer tok-1'],
    ['wxfile://tmp/b.jpg', 'file', 'Bearer tok-1'],
  ])
  expect(seenAtUpload).toEqual([1, 2]) // the second upload started after the first finished
  expect(photoStates(page)).toEqual(['done', 'done'])
  expect(all(page, '.photo-state')).toHaveLength(0)

  await fire(page, '#urgent', 'change', { value: true })
  const done = page.instance.submit()
  expect(wxState.subscribeRequests).toEqual([['tpl-order-status']]) // asked inside the tap
  await done
  await flush()
  expect(orderCalls().map((c) => c.body)).toEqual([{
    kind: 'repair',
    house_id: 2,
    category: 'water',
    urgent: true,
    description: '厨房水槽下水管漏水',
    photos: [701, 702],
    preferred_time: null,
  }])
  expect(wxState.navigations).toEqual([['redirectTo', '/pages/orders/detail?id=12']])
})

test('a failed photo upload is shown, blocks sending, and can be retried', async () => {
  wxState.uploadFails.add('wxfile://tmp/bad.jpg')
  const page = await open()
  await fill(page)
  await addPhotos(page, ['wxfile://tmp/good.jpg', 'wxfile://tmp/bad.jpg'])
  expect(photoStates(page)).toEqual(['done', 'failed'])
  expect(all(page, '.photo-retry').map((n) => n.dom.textContent.trim())).toEqual(['上传失败，点此重试'])

  await tap(page, '#submit')
  expect(orderCalls()).toHaveLength(0)
  expect(text(page, '#error-photos')).toBe('有照片上传失败，请点“重试”或删除后再提交')
  expect(page.instance.data.description).toBe('厨房水槽下水管漏水') // nothing typed is lost

  wxState.uploadFails.clear()
  await tap(page, all(page, '.photo-retry')[0])
  await flush(10)
  expect(photoStates(page)).toEqual(['done', 'done'])
  await tap(page, '#submit')
  await flush()
  expect(orderCalls()[0].body.photos).toEqual([501, 502])
})

test('a failed photo can be removed; only uploaded photos are sent', async () => {
  fake.on('POST', '/api/v1/uploads', (req) => (/bad/.test(req.body.filePath)
    ? envelope(422, 'validation_error', '不支持的图片格式', { file: ['不支持的图片格式'] })
    : { status: 201, body: { id: 801, content_type: 'image/jpeg', size: 10, url: '/api/v1/uploads/801' } }))
  const page = await open()
  await fill(page)
  await addPhotos(page, ['wxfile://tmp/bad.jpg', 'wxfile://tmp/ok.jpg'])
  expect(photoStates(page)).toEqual(['failed', 'done'])
  expect(page.instance.data.photos[0].error).toBe('不支持的图片格式')
  await tap(page, all(page, '.photo-remove')[0])
  expect(photoStates(page)).toEqual(['done'])
  await tap(page, '#submit')
  await flush()
  expect(orderCalls()).toHaveLength(1)
  expect(orderCalls()[0].body.photos).toEqual([801])
})

test('photos still uploading hold the submit', async () => {
  const page = await open()
  await fill(page)
  wxState.mediaQueue.push(['wxfile://tmp/slow.jpg'])
  await tap(page, '#add-photo')
  page.instance.setData({ 'photos[0].status': 'uploading' }) // pretend it is still on its way
  await page.instance.submit()
  expect(orderCalls()).toHaveLength(0)
  expect(page.instance.data.errors.photos).toBe('照片还在上传，请稍候再提交')
  await flush(20)
})

test('an upload refused with 401 logs in again once and retries', async () => {
  const page = await open()
  await fill(page)
  fake.revokeTokens()
  await addPhotos(page, ['wxfile://tmp/a.jpg'])
  expect(fake.loginCount).toBe(2)
  expect(wxState.uploads.map((u) => u.auth)).toEqual(['Bearer tok-1', 'Bearer tok-2'])
  expect(photoStates(page)).toEqual(['done'])
})

test('cancelling the picker adds nothing; at most 9 photos', async () => {
  const page = await open()
  await tap(page, '#add-photo') // empty queue: the user cancels
  expect(page.instance.data.photos).toEqual([])
  const nine = []
  for (let i = 0; i < 12; i++) nine.push('wxfile://tmp/p' + i + '.jpg')
  await addPhotos(page, nine)
  await flush(60)
  expect(page.instance.data.photos).toHaveLength(9)
  expect(exists(page, '#add-photo')).toBe(false)
})

test('the 紧急 switch only appears for categories that allow it', async () => {
  const page = await open()
  expect(exists(page, '#urgent-field')).toBe(false)
  await fire(page, '#category', 'change', { value: 0 })
  expect(text(page, '#category-value')).toContain('给排水')
  expect(exists(page, '#urgent-field')).toBe(true)
  await fire(page, '#urgent', 'change', { value: true })
  await fire(page, '#category', 'change', { value: 2 }) // 门窗锁具
  expect(exists(page, '#urgent-field')).toBe(false)
  await input(page, '#description', '门锁坏了')
  await tap(page, '#submit')
  await flush()
  expect(orderCalls()[0].body).toMatchObject({ category: 'doors_windows', urgent: false })
})

test('category and description are required', async () => {
  const page = await open()
  await tap(page, '#submit')
  expect(orderCalls()).toHaveLength(0)
  expect(text(page, '#error-category')).toBe('请选择报修类别')
  expect(text(page, '#error-description')).toBe('请描述需要维修的问题')
  expect(text(page, '#form-error')).toBe('请检查标红的内容')
})

test('a server error keeps the form, photos included', async () => {
  fake.on('POST', '/api/v1/work-orders', () => envelope(422, 'validation_error', '提交的内容有误，请检查后重试', { photos: ['图片不存在或不属于您'] }))
  const page = await open()
  await fill(page)
  await addPhotos(page, ['wxfile://tmp/a.jpg'])
  await tap(page, '#submit')
  await flush()
  expect(text(page, '#error-photos')).toBe('图片不存在或不属于您')
  expect(photoStates(page)).toEqual(['done'])
  expect(page.instance.data.description).toBe('厨房水槽下水管漏水')
  expect(page.instance.data.categoryIndex).toBe(0)
})

test('without an approved house: explain and offer binding', async () => {
  fake.on('GET', '/api/v1/me/houses', () => [membership(1, { status: 'pending' })])
  const page = await open()
  expect(text(page, '#no-house')).toContain('报修需要先绑定房屋')
  await tap(page, '#bind')
  expect(wxState.navigations).toEqual([['navigateTo', '/pages/houses/bind']])
})
