const { formatTime, parseTime, maskPhone, isPhone } = require('../utils/format')

describe('formatTime', () => {
  test('shows +08:00 times as written', () => {
    expect(formatTime('2026-11-23T18:05:09+08:00')).toBe('2026-11-23 18:05')
    expect(formatTime('2026-01-02T03:04:00.123456+08:00')).toBe('2026-01-02 03:04')
  })

  test('converts other offsets to China time', () => {
    expect(formatTime('2026-11-23T16:30:00Z')).toBe('2026-11-24 00:30')
    expect(formatTime('2026-11-23T10:00:00+0000')).toBe('2026-11-23 18:00')
    expect(formatTime('2026-12-31T23:00:00-05:00')).toBe('2027-01-01 12:00')
  })

  test('takes a time without offset as China time', () => {
    expect(formatTime('2026-11-23 08:00')).toBe('2026-11-23 08:00')
  })

  test('is empty for missing or malformed values', () => {
    expect(formatTime(null)).toBe('')
    expect(formatTime(undefined)).toBe('')
    expect(formatTime('')).toBe('')
    expect(formatTime('yesterday')).toBe('')
    expect(isNaN(parseTime(42))).toBe(true)
  })

  test('parseTime returns epoch milliseconds', () => {
    expect(parseTime('1970-01-01T08:00:00+08:00')).toBe(0)
  })
})

describe('maskPhone / isPhone', () => {
  test('masks the middle four digits', () => {
    expect(maskPhone('13800000001')).toBe('138****0001')
  })

  test('leaves masked, short and empty values alone', () => {
    expect(maskPhone('138****0001')).toBe('138****0001')
    expect(maskPhone('12345')).toBe('12345')
    expect(maskPhone(null)).toBe('')
  })

  test('accepts mainland mobile numbers only', () => {
    expect(isPhone('13800000001')).toBe(true)
    expect(isPhone('12800000001')).toBe(false)
    expect(isPhone('1380000000')).toBe(false)
    expect(isPhone('')).toBe(false)
  })
})
