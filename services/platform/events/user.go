package events

import "time"

// Topics of the user service. Payloads are JSON; see contracts/events.md.
const (
	TopicUserRegistered = "user.registered"
	TopicUserUpdated    = "user.updated"
	TopicUserDeleted    = "user.deleted"
)

// UserRegistered is published once per new account.
type UserRegistered struct {
	UserID       string    `json:"userId"`
	Email        string    `json:"email"`
	Name         string    `json:"name"`
	Role         string    `json:"role"`
	RegisteredAt time.Time `json:"registeredAt"`
}

// UserUpdated is published after a change of profile, email, password or role.
// Changed lists the JSON names of the fields that changed ("password" appears
// without its value).
type UserUpdated struct {
	UserID    string    `json:"userId"`
	Email     string    `json:"email"`
	Name      string    `json:"name"`
	Role      string    `json:"role"`
	Changed   []string  `json:"changed"`
	Version   int64     `json:"version"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// UserDeleted is published when an account is deleted.
type UserDeleted struct {
	UserID    string    `json:"userId"`
	Email     string    `json:"email"`
	DeletedAt time.Time `json:"deletedAt"`
}
