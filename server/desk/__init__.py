"""The service center's desk: read models that cut across domains (the day's board, finding a house or
a person) and the desk's own records (calls and visits). Used by the admin page and the JSON API alike."""
